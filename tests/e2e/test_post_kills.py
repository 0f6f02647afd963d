"""The real ``pollbot run``, killed with SIGKILL at random points inside a 5-channel /post,
with a simulated round trip of 100 ms on every Bot API call, in long polling and webhook mode.

After each kill the bot is started again and finishes the post. At the end:
- every chat has every post's article and poll;
- repeated messages are at most one per kill (Telegram has no idempotency key: a message
  whose answer was lost with the process is sent again), and the admin was told;
- every poll in every chat is in the database, in its campaign, and a vote cast in each
  of them reaches the results.

CI runs ``POLLBOT_POST_KILLS`` kills per mode (4 by default, to keep the suite short);
``POLLBOT_POST_KILLS=25 python -m pytest tests/e2e/test_post_kills.py`` is the full run
the README reports.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sqlite3
import subprocess
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from storage import Store
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import start_bot, wait_for, write_config

KILLS = int(os.environ.get("POLLBOT_POST_KILLS", "4"))
RTT = 0.1  # seconds, on every call
EXTRA = {-1001101: "kill_news_a", -1001102: "kill_news_b", -1001103: "kill_news_c"}
CHANNELS = (PLANTNEWS, AUTONEWS, *EXTRA)
SEED = "moscow-plant-reboot"
SENDING = ("sendMessage", "sendPoll")


@dataclass
class Run:
    sandbox: Sandbox
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def sends_to_channels(self) -> int:
        calls = self.sandbox.world.calls()
        return sum(
            1 for c in calls if c["method"] in SENDING and c["params"]["chat_id"] in CHANNELS
        )

    def finished(self, update_id: int) -> bool:
        """Has the bot recorded its report of the /post of ``update_id`` (its last send)?"""
        database = self.log.parent / "pollbot.sqlite3"
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            key = f"u{update_id}:post-report:{ADMIN}:0"
            return conn.execute("SELECT 1 FROM sent WHERE key = ?", (key,)).fetchone() is not None


def bot_messages(sandbox: Sandbox, chat_id: int) -> list[dict[str, object]]:
    if chat_id not in sandbox.world.chats:
        return []
    messages = sandbox.world.chat(chat_id)["messages"]
    return [m for m in messages if m["sandbox"]["from_bot"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configure(sandbox: Sandbox, tmp_path: Path, mode: str) -> Path:
    for chat_id, username in EXTRA.items():
        sandbox.world.add_chat(chat_id, "channel", username.title(), username, admins=[ADMIN])
    names = ", ".join(f'"@{sandbox.world.chats[c].username}"' for c in CHANNELS)
    bot = f"admins = [{ADMIN}]\nchannels = [{names}]\nadmin_cache_seconds = 600\n"
    telegram = f'token = "{sandbox.token}"\napi_url = "{sandbox.api_url}"\npoll_timeout = 1\n'
    if mode == "webhook":
        port = free_port()
        telegram += (
            f'mode = "webhook"\n[telegram.webhook]\nlisten = "127.0.0.1"\nport = {port}\n'
            f'url = "http://127.0.0.1:{port}/telegram"\nsecret_token = "kill-test-secret-token"\n'
        )
        sandbox.world.webhook_timeout(30, retry_delay=0.2)
    return write_config(tmp_path, sandbox, bot=bot, telegram=telegram)


async def start(run: Run, config: Path) -> None:
    run.process = start_bot(config, run.log)
    log = run.log
    started = log.read_text(encoding="utf-8").count("pollbot started as")
    await wait_for(
        lambda: log.read_text(encoding="utf-8").count("pollbot started as") > started,
        60,
        "the bot to start",
    )


def kill(run: Run) -> None:
    assert run.process is not None
    run.process.send_signal(signal.SIGKILL)
    run.process.wait(timeout=10)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_sigkill_inside_a_post_to_five_channels_loses_nothing(
    sandbox: Sandbox, tmp_path: Path, mode: str
) -> None:
    config = configure(sandbox, tmp_path, mode)
    sandbox.world.fault("slow", method="*", times=10**7, delay=RTT)
    rng = random.Random(f"{mode}-{KILLS}")
    run = Run(sandbox, tmp_path / "bot.log")
    await start(run, config)
    try:
        for _ in range(KILLS):
            before = run.sends_to_channels()
            update_id = sandbox.world.send(ADMIN, f"/post {SEED}")["update"]["update_id"]
            point = rng.randint(1, 2 * len(CHANNELS))  # an article part or a poll went out
            await wait_for(lambda b=before, p=point: run.sends_to_channels() - b >= p, 60, "sends")
            await asyncio.sleep(rng.random() * RTT)  # anywhere in the next round trip
            kill(run)
            await start(run, config)
            await wait_for(lambda u=update_id: run.finished(u), 120, "the post to be finished")
        await vote_in_every_poll(run)
        assert run.process is not None
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=60) == 0
    finally:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()
    await check(sandbox, tmp_path, run)


async def vote_in_every_poll(run: Run) -> None:
    """One vote in every poll of every channel, each by another user; wait until applied."""
    world = run.sandbox.world
    polls = [m["poll"] for c in CHANNELS for m in bot_messages(run.sandbox, c) if "poll" in m]
    for user, poll in enumerate(polls, start=700_000):
        world.vote(user, str(poll["id"]), [0])  # type: ignore[index]
    await wait_for(lambda: world.pending() == 0, 60, "the votes to be taken")
    await asyncio.sleep(1.0)  # the last batch committed


async def check(sandbox: Sandbox, tmp_path: Path, run: Run) -> None:
    polls_in = {c: [m for m in bot_messages(sandbox, c) if "poll" in m] for c in CHANNELS}
    texts_in = {c: [m for m in bot_messages(sandbox, c) if "poll" not in m] for c in CHANNELS}
    async with await Store.open(tmp_path / "pollbot.sqlite3") as store:
        campaigns = [c for c in await store.campaigns(closed_since=0, limit=1000)]
        counts = [p for campaign in campaigns for p in await store.counts_of(campaign.id)]
    assert len(campaigns) == KILLS
    # Every chat got every post: its poll at least once per post, its article too.
    parts = min(len(texts) for texts in texts_in.values()) // KILLS
    repeats = 0
    for chat in CHANNELS:
        assert len(polls_in[chat]) >= KILLS, chat
        assert len(texts_in[chat]) >= KILLS * parts >= KILLS, chat
        repeats += len(polls_in[chat]) - KILLS
        repeats += len(texts_in[chat]) - KILLS * parts
    assert repeats <= KILLS, f"{repeats} repeated messages for {KILLS} kills"
    # Every poll in every chat is in the database, in a campaign, with its vote counted.
    in_chats = Counter(str(m["poll"]["id"]) for ms in polls_in.values() for m in ms)  # type: ignore[index]
    stored = Counter(p.poll.poll_id for p in counts)
    assert stored == in_chats
    assert sum(p.poll.total_voters for p in counts) == sum(in_chats.values())
    if repeats:
        told = [m for m in bot_messages(sandbox, ADMIN) if "may show twice" in m.get("text", "")]
        assert told, "a message was repeated and the admin was not told"
    print(f"\n{run.log.parent.name}: {KILLS} kills, {repeats} repeated messages")
