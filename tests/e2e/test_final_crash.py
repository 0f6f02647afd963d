"""The real ``pollbot run``, killed with SIGKILL as its polls close: after the restart each
chat has exactly one final result post, replying to its poll."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import start_bot, wait_for, write_config


def bot_messages(sandbox: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    if chat_id not in sandbox.world.chats:
        return []
    return [m for m in sandbox.world.chat(chat_id)["messages"] if m["sandbox"]["from_bot"]]


def finals(sandbox: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in bot_messages(sandbox, chat_id) if "Final result" in m.get("caption", "")]


def poll_of(sandbox: Sandbox, chat_id: int) -> dict[str, Any] | None:
    return next((m for m in bot_messages(sandbox, chat_id) if "poll" in m), None)


async def test_sigkill_while_the_final_posts_go_out_posts_each_once_after_the_restart(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox)
    log = tmp_path / "bot.log"
    process = start_bot(config, log)
    sandbox.world.send(ADMIN, "/newpoll Best car? | Lada | Moskvich | 1m @plantnews @autonews")
    await wait_for(
        lambda: poll_of(sandbox, PLANTNEWS) is not None and poll_of(sandbox, AUTONEWS) is not None,
        60,
        "the polls",
    )
    plant, auto = poll_of(sandbox, PLANTNEWS), poll_of(sandbox, AUTONEWS)
    assert plant is not None and auto is not None
    sandbox.world.vote(9001, plant["poll"]["id"], [1])
    # The second chat's final post fails (Telegram busy) until the bot is killed: the
    # claims are made and one post went out when the SIGKILL comes.
    sandbox.world.fault("500", "sendPhoto", chat_id=AUTONEWS, times=1000)
    sandbox.world.advance(61)
    await wait_for(lambda: len(finals(sandbox, PLANTNEWS)) == 1, 60, "the first final post")
    await wait_for(
        lambda: any(not c["ok"] for c in sandbox.world.calls("sendPhoto")),
        60,
        "the failed second post",
    )
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    assert finals(sandbox, AUTONEWS) == []

    sandbox.world.clear_faults()
    process = start_bot(config, log)
    await wait_for(lambda: len(finals(sandbox, AUTONEWS)) == 1, 60, "the second final post")
    await wait_for(lambda: sandbox.world.pending() == 0, 60, "the updates to be confirmed")
    # Its start-up done (SIGTERM blocks this loop, and the sandbox with it, until it exits).
    await wait_for(lambda: log.read_text().count("pollbot started") == 2, 60, "the restart")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    for chat_id, poll in ((PLANTNEWS, plant), (AUTONEWS, auto)):
        (post,) = finals(sandbox, chat_id)
        assert post["reply_to_message"]["message_id"] == poll["message_id"]
        assert "photo" in post
    assert "Winner: Moskvich" in finals(sandbox, PLANTNEWS)[0]["caption"]
    assert "0 voters" in finals(sandbox, AUTONEWS)[0]["caption"]
