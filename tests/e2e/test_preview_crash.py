"""The real ``pollbot run``, killed with SIGKILL between a /post preview and its Publish.

The draft lives in SQLite: after the restart, a press of Publish publishes it, once.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from storage import Store
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import start_bot, wait_for, write_config

SEED = "moscow-plant-reboot"


def bot_messages(sandbox: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    if chat_id not in sandbox.world.chats:
        return []
    return [m for m in sandbox.world.chat(chat_id)["messages"] if m["sandbox"]["from_bot"]]


def publish_button(message: dict[str, Any]) -> str | None:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b["text"] == "Publish"]
    return found[0] if found else None


async def test_sigkill_between_preview_and_press_then_a_press_publishes_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox, preview=True)
    log = tmp_path / "bot.log"
    process = start_bot(config, log)
    sandbox.world.send(ADMIN, f"/post {SEED} @plantnews @autonews")
    await wait_for(
        lambda: any(publish_button(m) for m in bot_messages(sandbox, ADMIN)), 60, "the preview"
    )
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    assert bot_messages(sandbox, PLANTNEWS) == [] and bot_messages(sandbox, AUTONEWS) == []

    (preview,) = [m for m in bot_messages(sandbox, ADMIN) if publish_button(m)]
    data = publish_button(preview)
    assert data is not None
    sandbox.world.press(ADMIN, ADMIN, preview["message_id"], data)
    shown = len(bot_messages(sandbox, ADMIN))
    process = start_bot(config, log)
    try:
        await wait_for(
            lambda: any("Posting" in m.get("text", "") for m in bot_messages(sandbox, ADMIN)),
            60,
            "the report",
        )  # (a count of messages would take a preview part sent again after the kill for it)
        await wait_for(
            lambda: not any(publish_button(m) for m in bot_messages(sandbox, ADMIN)),
            60,
            "the preview marked published",  # the publishing's last act, apart from the press
        )
        await wait_for(lambda: sandbox.world.pending() == 0, 60, "the press to be confirmed")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:  # a failure above must not leave it running
            process.kill()
            process.wait()

    for channel in (PLANTNEWS, AUTONEWS):
        sent = bot_messages(sandbox, channel)
        assert len([m for m in sent if "poll" in m]) == 1
        assert len([m for m in sent if "text" in m]) == shown - 3  # the preview's parts
    async with await Store.open(tmp_path / "pollbot.sqlite3") as store:
        assert len(await store.posts_of(SEED)) == 2
        draft = await store.draft(1)
        assert draft is not None and draft.state == "published"
    assert len(sandbox.world.callback_answers()) == 1
