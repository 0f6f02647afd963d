"""Fixtures shared by every test: the sandbox, its standard world, the in-process bot.

The whole run's log (INFO and up, httpx request lines included) is also written to one
file; at the end the session fails if the bot token appears anywhere in it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import DEFAULT_TOKEN, Sandbox
from tests.harness import BotHarness, bot_harness, populate

_RUN_LOG = Path(tempfile.mkdtemp(prefix="pollbot-test-log-")) / "run.log"
_TOKEN_SECRET = DEFAULT_TOKEN.split(":", 1)[1]


def pytest_sessionstart(session: pytest.Session) -> None:
    handler = logging.FileHandler(_RUN_LOG, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    if not _RUN_LOG.exists():
        return
    leaks = [
        line for line in _RUN_LOG.read_text(encoding="utf-8").splitlines() if _TOKEN_SECRET in line
    ]
    if leaks:
        print(f"\nthe bot token appears in the test run's log ({_RUN_LOG}):")
        print("\n".join(leaks[:5]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture
def offline_config(tmp_path: Path) -> Path:
    """A config.toml in tmp_path for the CLI's offline commands: database db.sqlite3 there
    (not created), no Telegram reached."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[telegram]\ntoken = "123456:SANDBOX-TOKEN"\n[storage]\npath = "db.sqlite3"\n'
        "[bot]\nadmins = [1]\n",
        encoding="utf-8",
    )
    return path
