"""``pollbot demo``: the whole mission offline, in under a minute, with no token.

It starts the Bot API sandbox and the real bot (``bot.app.run``, the code path of
``pollbot run``), has the admin /post the seed article, look at the preview and press
Publish, which posts the article and its poll to a simulated channel and group,
lets a few hundred simulated subscribers read the summary and vote (some change their
mind), has the admin ask for /results and a /digest with its chart, and prints what each
chat saw. ``--keep`` leaves everything running for ``pollbot sandbox`` commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import app
from bot.config import SHIPPED_CONTENT_DIR, Config
from bot.demo.transcript import Press, save_chart, transcript
from bot.sandbox import Sandbox, World
from bot.sandbox.crowd import simulate

ARTICLE = "moscow-plant-reboot"
ADMIN = 1001
CHANNEL, CHANNEL_NAME = -1001001, "plantnews"
GROUP = -1002001
FIRST_READER = 2_000_000
URL_FILE = "sandbox.url"


@dataclass(frozen=True, slots=True)
class DemoResult:
    directory: Path
    database: Path
    chart: Path | None
    transcript: str


class Progress:
    """Numbered progress lines with the time since the start."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo, self.started, self.step = echo, time.monotonic(), 0

    def __call__(self, text: str) -> None:
        self.step += 1
        self.echo(f"[{time.monotonic() - self.started:5.1f}s] {self.step}. {text}")


def build_world(world: World, readers: int, seed: int = 3) -> list[int]:
    """The cast: an admin, a channel, a group, and ``readers`` subscribers (en and ru)."""
    rng = random.Random(seed)
    world.add_user(ADMIN, "Alice", "en", "alice_admin")
    world.add_chat(CHANNEL, "channel", "Plant News", CHANNEL_NAME, admins=[ADMIN])
    world.add_chat(GROUP, "supergroup", "Plant fans", None, admins=[ADMIN])
    ids = list(range(FIRST_READER, FIRST_READER + readers))
    for number, user_id in enumerate(ids, 1):
        language = "ru" if rng.random() < 0.6 else "en"
        world.add_user(user_id, f"Reader {number}", language)
    return ids


def write_config(directory: Path, sandbox: Sandbox) -> Path:
    path = directory / "config.toml"
    path.write_text(
        "# Written by pollbot demo: the real bot against the local sandbox.\n"
        f'[telegram]\ntoken = "{sandbox.token}"\napi_url = "{sandbox.api_url}"\n'
        "poll_timeout = 1\n"
        '[storage]\npath = "pollbot.sqlite3"\n'
        f'[bot]\nadmins = [{ADMIN}]\nchannels = ["@{CHANNEL_NAME}", {GROUP}]\n'
        f'content_dir = "{SHIPPED_CONTENT_DIR}"\ntimezone = "Europe/Moscow"\n'
        "[digest]\ncharts = true\n",
        encoding="utf-8",
    )
    return path


def bot_messages(world: World, chat_id: int) -> list[dict[str, Any]]:
    if chat_id not in world.chats:
        return []
    return [m for m in world.chat(chat_id)["messages"] if m["sandbox"]["from_bot"]]


async def until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def command(world: World, user_id: int, text: str) -> None:
    """A user writes to the bot privately; wait until the bot has handled it and answered.

    The update is confirmed (no longer pending) only once the bot committed its handling,
    and so after every message it sent for it.
    """
    before = len(bot_messages(world, user_id))
    world.send(user_id, text)
    await until(
        lambda: world.pending() == 0 and len(bot_messages(world, user_id)) > before,
        f"the answer to {text}",
    )


def publish_data(message: dict[str, Any]) -> str | None:
    """The callback data of a message's Publish button, if it has one."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b.get("text") == "Publish"]
    return found[0] if found else None


async def publish(world: World) -> Press:
    """The admin presses Publish under the preview; wait until the post and polls are out."""
    (preview,) = [m for m in bot_messages(world, ADMIN) if publish_data(m)]
    data = publish_data(preview)
    assert data is not None
    world.press(ADMIN, ADMIN, preview["message_id"], data)
    await until(
        lambda: world.pending() == 0 and len(poll_ids(world)) == 2, "the post to be published"
    )
    return Press(ADMIN, preview["message_id"], "Alice pressed [ Publish ]")


def first_reader(world: World, readers: list[int], language: str) -> int:
    """The first reader who asked for the summary in ``language`` (for the transcript)."""
    return next(
        (
            u
            for u in readers
            if world.users[u].language_code == language and bot_messages(world, u)
        ),
        readers[0],
    )


def poll_ids(world: World) -> list[str]:
    return [
        m["poll"]["id"]
        for chat in (CHANNEL, GROUP)
        for m in bot_messages(world, chat)
        if "poll" in m
    ]


async def read_summaries(world: World, readers: list[int], share: float) -> int:
    """Some readers tap "No time to read? Get a summary" (a deep link to the bot)."""
    chosen = readers[: int(len(readers) * share)]
    for user_id in chosen:
        world.send(user_id, f"/start s-{ARTICLE}")
    await until(lambda: all(bot_messages(world, u) for u in chosen), "the summaries", 40)
    return len(chosen)


async def vote_for_a_minute(world: World, polls: list[str], readers: int) -> int:
    """Six rounds, ten simulated seconds apart: first votes, then changes of mind."""
    actions = 0
    for round_number in range(6):
        report = simulate(
            world,
            polls,
            users=readers,
            actions=readers // 2,
            change=0.25,
            retract=0.04,
            seed=round_number,
            first_user_id=FIRST_READER,
        )
        actions += len(report.actions)
        await until(lambda: world.pending() == 0, "the bot to take the votes")
        world.advance(10)
    return actions


async def run_demo(
    directory: Path, *, readers: int = 300, keep: bool = False, echo: Callable[[str], None] = print
) -> DemoResult:
    """Run the demo; with ``keep``, serve until cancelled after printing the transcript."""
    database = await asyncio.to_thread(_fresh_directory, directory)
    progress = Progress(echo)
    async with Sandbox() as sandbox:
        world = sandbox.world
        people = build_world(world, readers)
        progress(f"Bot API sandbox on {sandbox.url} (no internet, no token needed)")
        config = Config.from_toml(write_config(directory, sandbox), env={})
        stop = asyncio.Event()
        bot = asyncio.create_task(app.run(config, stop))
        await until(lambda: bool(world.calls("getUpdates")) or bot.done(), "the bot to start")
        progress("pollbot started (the same code as `pollbot run`)")
        try:
            await command(world, ADMIN, f"/post {ARTICLE}")
            progress(f"admin: /post {ARTICLE} -> a preview of the post, the poll and where")
            presses = [await publish(world)]
            progress(f"admin: pressed Publish -> channel @{CHANNEL_NAME} and group Plant fans")
            count = await read_summaries(world, people, share=0.4)
            progress(f"{count} readers tapped 'No time to read? Get a summary'")
            actions = await vote_for_a_minute(world, poll_ids(world), readers)
            progress(f"{readers} subscribers voted over a simulated minute ({actions} actions)")
            await command(world, ADMIN, "/results")
            progress("admin: /results")
            await command(world, ADMIN, "/digest")
            progress("admin: /digest (text and chart)")
            chart = save_chart(world, ADMIN, directory / "digest-chart.png")
            readers_shown = [first_reader(world, people, "en"), first_reader(world, people, "ru")]
            text = transcript(world, [CHANNEL, GROUP, ADMIN, *readers_shown], presses)
            echo(text)
            echo(f"chart:    {chart or '(none)'}\ndatabase: {database}")
            if keep:
                await serve_forever(sandbox, directory, echo)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await bot
    return DemoResult(directory, database, chart, text)


def _fresh_directory(directory: Path) -> Path:
    """Create the demo directory and remove an earlier demo's database."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("pollbot.sqlite3*"):
        stale.unlink()
    return directory / "pollbot.sqlite3"


async def serve_forever(sandbox: Sandbox, directory: Path, echo: Callable[[str], None]) -> None:
    (directory / URL_FILE).write_text(sandbox.url, encoding="utf-8")
    echo(
        f"\nThe sandbox and the bot keep running at {sandbox.url}. Try, in another shell:\n"
        f"  pollbot sandbox say {ADMIN} /results\n"
        f"  pollbot sandbox say {FIRST_READER} /start s-{ARTICLE}\n"
        f"  pollbot sandbox vote {FIRST_READER + 1} POLL_ID 2   (ids: pollbot sandbox polls)\n"
        f"  pollbot sandbox show {ADMIN}\n"
        "Press Ctrl-C to stop."
    )
    try:
        await asyncio.Event().wait()
    finally:
        (directory / URL_FILE).unlink(missing_ok=True)


def main(directory: Path, *, readers: int, keep: bool) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run_demo(directory, readers=readers, keep=keep))
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"pollbot demo: {exc}")
        return 1
    return 0
