"""Fixtures for the sandbox tests: a started Sandbox, PTB's real Bot on it, a seeded cast."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import telegram

from bot.sandbox import Sandbox, World
from tests.cast import add_people, add_place
from tests.sandbox.support import Cast, RawCall


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


@pytest.fixture
def world(sandbox: Sandbox) -> World:
    return sandbox.world


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(sandbox.token, base_url=sandbox.api_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
def cast(world: World) -> Cast:
    """An admin who started the bot, two subscribers, a channel, a supergroup, a group."""
    ids = Cast()
    add_people(world, ids.admin, ids.reader_ru, ids.reader, ids.stranger)
    world.send(ids.admin, "/start")
    add_place(world, ids.channel, admins=[ids.admin])
    add_place(world, ids.supergroup, admins=[ids.admin])
    add_place(world, ids.group, admins=[ids.admin], bot_status="member")
    world.updates.confirm(world.updates.next_id)
    return ids


@pytest.fixture
async def raw_call(sandbox: Sandbox) -> AsyncIterator[RawCall]:
    """POST a Bot API call encoded the way PTB encodes it; returns (status, JSON body)."""
    async with aiohttp.ClientSession() as session:

        async def call(method: str, token: str | None = None, **params: Any) -> tuple[int, Any]:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            url = f"{sandbox.api_url}{token or sandbox.token}/{method}"
            async with session.post(url, data=form) as response:
                return response.status, await response.json()

        yield call
