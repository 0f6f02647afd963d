"""The test harness: the real bot, in-process, against the sandbox on loopback.

``BotHarness`` runs the PTB Application and the durable pump exactly as ``pollbot run``
does, but drains updates on demand (``await h.drain()``), so a test reads as a
conversation: a user writes, the bot answers, the test looks at the chat and the store.
Builders of the world (users, chats) live here too.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import PTBApplication, build_application, caught_up, running
from bot.config import Config
from bot.flood import PRIVATE_CHAT_INTERVAL
from bot.pump import UpdatePump
from bot.sandbox import Sandbox, World
from bot.services import Services
from storage.clock import Clock
from tests.cast import (
    ADMIN,
    ADMIN_RU,
    AUTONEWS,
    CHANNEL_ADMIN,
    GROUP,
    PLANTNEWS,
    READER,
    READER_RU,
    add_people,
    add_place,
)

ROOT = Path(__file__).resolve().parent.parent


def populate(world: World) -> None:
    """Users and chats every harness starts with (the cast: tests/cast.py)."""
    add_people(world, ADMIN, ADMIN_RU, READER, READER_RU, CHANNEL_ADMIN)
    add_place(world, PLANTNEWS, admins=[CHANNEL_ADMIN])
    add_place(world, AUTONEWS, admins=[ADMIN])
    add_place(world, GROUP, admins=[ADMIN])


def write_config(
    directory: Path, sandbox: Sandbox, *, preview: bool = False, **sections: str
) -> Path:
    """A config.toml pointing at the sandbox; ``sections`` replace whole sections.

    ``[bot] preview`` is off unless ``preview`` (or a ``bot`` section that sets it): most
    tests post and check what went out; tests/bot/test_drafts.py tests the preview."""
    parts = {
        "telegram": f'token = "{sandbox.token}"\napi_url = "{sandbox.api_url}"\n'
        "poll_timeout = 1\n",
        "storage": 'path = "pollbot.sqlite3"\n',
        "bot": f"admins = [{ADMIN}, {ADMIN_RU}]\n"
        'channels = ["@plantnews", "@autonews"]\n'
        "admin_cache_seconds = 60\n",
        "digest": "charts = true\n",
    }
    parts.update({name: textwrap.dedent(body) for name, body in sections.items()})
    if "preview" not in parts["bot"]:
        parts["bot"] += f"preview = {'true' if preview else 'false'}\n"
    text = "".join(f"[{name}]\n{body}\n" for name, body in parts.items())
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class BotHarness:
    sandbox: Sandbox
    config: Config
    application: PTBApplication
    services: Services
    pump: UpdatePump
    seen: dict[int, int] = field(default_factory=dict)

    @property
    def world(self) -> World:
        return self.sandbox.world

    @property
    def store(self) -> Any:
        return self.services.store

    async def drain(self, rounds: int = 20) -> int:
        """Fetch and handle updates until none is pending; return how many were handled.
        The first time, the pump has then caught up (and runs its hook, as in production)."""
        handled = 0
        offset = await self.store.offset()
        for _ in range(rounds):
            raw = await self.pump.bot.get_updates_raw(offset, 0)
            if not raw:
                await self.pump.mark_caught_up()
                if not await self.settle():
                    return handled
                continue  # what the sends set off (a press may follow a post...)
            offset = await self.pump.process_batch(raw) or offset
            handled += len(raw)
        raise AssertionError("updates keep coming: is a handler producing updates forever?")

    async def settle(self) -> bool:
        """Wait for what is sent apart from the updates that asked for it: final result
        posts (bot/polls/final.py ``kick``) and drafts being published
        (bot/drafts/publishing.py); was there any?"""
        waited = False
        while tasks := self.services.followups_tasks | self.services.publishing_tasks:
            await asyncio.gather(*tasks)
            waited = True
        return waited

    async def say(
        self, user_id: int, text: str, chat_id: int | None = None
    ) -> list[dict[str, Any]]:
        """A user writes; the bot handles it; return the bot's new messages in that chat."""
        target = user_id if chat_id is None else chat_id
        self.new_messages(target)
        self.world.send(user_id, text, chat_id)
        await self.drain()
        return [m for m in self.new_messages(target) if m.get("from", {}).get("is_bot")]

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message of a chat (none for a private chat not opened yet)."""
        if chat_id not in self.world.chats:
            return []
        return list(self.world.chat(chat_id)["messages"])

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message the bot sent to a chat."""
        return [m for m in self.messages(chat_id) if m["sandbox"]["from_bot"]]

    def queued_update(self, user_id: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
        """A user writes; return the raw update as getUpdates gives it, for a test to hand
        the pump itself (twice, to replay it)."""
        update = self.world.send(user_id, text, chat_id)["update"]
        assert update is not None
        return dict(update)

    def new_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages of a chat since the last call (per chat)."""
        messages = self.messages(chat_id)
        start = self.seen.get(chat_id, 0)
        self.seen[chat_id] = len(messages)
        return messages[start:]


@asynccontextmanager
async def bot_harness(
    sandbox: Sandbox,
    directory: Path,
    *,
    clock: Clock | None = None,
    paused: bool = False,
    paced: bool = False,
    preview: bool = False,
    **sections: str,
) -> AsyncIterator[BotHarness]:
    """The real application with its services, talking to ``sandbox``.

    ``clock`` (e.g. a ``ManualClock``) replaces the system clock for the store and the bot;
    ``paused`` pauses the JobQueue, so that only the test runs jobs. A private chat is paced
    as in production (3 messages at once, then one a second: bot/flood.py) only when
    ``paced``: the flood tests ask for it. ``preview`` turns on ``[bot] preview``."""
    config = Config.from_toml(
        write_config(directory, sandbox, preview=preview, **sections), env={}
    )
    application = build_application(
        config, private_chat_interval=PRIVATE_CHAT_INTERVAL if paced else 0
    )
    async with running(application, config, clock=clock) as services:
        if paused and application.job_queue is not None:
            application.job_queue.scheduler.pause()
        hook = functools.partial(caught_up, application)
        pump = UpdatePump(application, services.store, timeout=0, on_caught_up=hook)
        harness = BotHarness(sandbox, config, application, services, pump)
        await harness.drain()  # what waited at the sandbox, then the catch-up
        yield harness


def pollbot_argv(*args: str) -> list[str]:
    """The ``pollbot`` command of this checkout, as a process runs it."""
    return [sys.executable, "-m", "bot", *args]


def pollbot_env() -> dict[str, str]:
    """The environment of a ``pollbot`` process: this checkout first, no token from outside."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("POLLBOT_TOKEN", None)
    return env


def start_bot(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """The real ``pollbot run`` (``python -m bot``) as a separate process, logging to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            pollbot_argv(*(args or ("run",)), "--config", str(config)),
            cwd=config.parent,
            env=pollbot_env(),
            stdout=output,
            stderr=output,
        )


async def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``predicate`` (letting the in-process sandbox run) until true or time is up."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def run_cli(*argv: str) -> int:
    """``pollbot ARGV`` in-process: the CLI runs its own event loop, so in a thread, away
    from the test's (and the in-process sandbox's)."""
    from bot.cli import main

    return await asyncio.to_thread(main, list(argv))
