"""The real ``pollbot run``, killed with SIGKILL while a post waits for its time.

The post is in SQLite: the next start (after its time, within the grace time) sends it
once; a post cancelled with /unqueue before the kill never goes out.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from storage import Store
from tests.cast import ADMIN, PLANTNEWS
from tests.harness import start_bot, wait_for, write_config

SEED = "moscow-plant-reboot"


def bot_messages(sandbox: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    if chat_id not in sandbox.world.chats:
        return []
    return [m for m in sandbox.world.chat(chat_id)["messages"] if m["sandbox"]["from_bot"]]


def said(sandbox: Sandbox, words: str) -> bool:
    return any(words in str(m.get("text")) for m in bot_messages(sandbox, ADMIN))


async def test_a_scheduled_post_survives_sigkill_and_goes_out_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox)
    log = tmp_path / "bot.log"
    process = start_bot(config, log)
    sandbox.world.send(ADMIN, f"/post {SEED} @plantnews in 3s")
    sandbox.world.send(ADMIN, f"/post {SEED} @plantnews in 3s")
    sandbox.world.send(ADMIN, "/unqueue 2")
    await wait_for(lambda: said(sandbox, "#2 is cancelled"), 60, "the two posts queued")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    async with await Store.open(tmp_path / "pollbot.sqlite3") as store:
        first = await store.scheduled_post(1)
    assert first is not None and first.state == "pending"
    # The bot is down when the post falls due (its real clock: a process has no other).
    await wait_for(lambda: time.time() > first.due_at, 10, "the due time to pass")
    assert bot_messages(sandbox, PLANTNEWS) == []

    process = start_bot(config, log)
    await wait_for(lambda: said(sandbox, "@plantnews: posted"), 60, "the post and its report")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    sent = bot_messages(sandbox, PLANTNEWS)
    assert len([m for m in sent if "poll" in m]) == 1  # post 1 once, post 2 never
    async with await Store.open(tmp_path / "pollbot.sqlite3") as store:
        states = [(await store.scheduled_post(n)) for n in (1, 2)]
    assert [post.state if post else None for post in states] == ["sent", "cancelled"]
