"""Fixtures shared by every test: the sandbox, its standard world, the in-process bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.harness import BotHarness, bot_harness, populate


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A started sandbox with the standard users and chats."""
    async with Sandbox() as started:
        populate(started.world)
        yield started


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The real bot, in-process, with a fresh database in tmp_path."""
    async with bot_harness(sandbox, tmp_path) as harness:
        yield harness
