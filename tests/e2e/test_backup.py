"""``pollbot backup`` while the bot drains votes: the copy is one consistent moment.

The copy holds an update offset; its answers must be exactly what the updates before that
offset say — every committed vote, nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.cli import main
from bot.sandbox import Sandbox
from tests.cast import GROUP
from tests.e2e.test_crash_recovery import OPTIONS, crowd_answers
from tests.harness import start_bot, wait_for, write_config


def answers_before(updates: list[dict[str, Any]], offset: int) -> dict[str, tuple[int, ...]]:
    """Fold the poll_answer updates with an id below ``offset`` into current choices."""
    choices: dict[str, tuple[int, ...]] = {}
    for update in updates:
        if update["kind"] != "poll_answer" or update["update_id"] >= offset:
            continue
        payload = update["payload"]
        voter = str(payload["user"]["id"])
        choices[voter] = tuple(payload["option_ids"])
        if not payload["option_ids"]:
            del choices[voter]
    return choices


def copy_contents(path: Path, poll_id: str) -> tuple[int, dict[str, tuple[int, ...]]]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        offset = int(
            conn.execute("SELECT value FROM state WHERE key = 'update_offset'").fetchone()[0]
        )
        rows = conn.execute(
            "SELECT voter, positions FROM answers WHERE poll_id = ?", (poll_id,)
        ).fetchall()
    return offset, {voter: tuple(json.loads(positions)) for voter, positions in rows}


async def test_backup_while_the_bot_writes_is_consistent(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path, sandbox)
    async with Bot(sandbox.token, base_url=sandbox.api_url) as client:
        message = await client.send_poll(GROUP, "Which lineup?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    poll_id = message.poll.id
    votes = crowd_answers(seed=11)
    for vote in votes:
        vote[1] = poll_id
    sandbox.world.bulk_votes(votes)
    updates = sandbox.world.pending_updates()
    total = len(updates)

    process = start_bot(config, tmp_path / "bot.log")
    try:
        copies = []
        for index, fraction in enumerate((0.2, 0.5)):
            await wait_for(
                lambda f=fraction: sandbox.world.pending() <= total * (1 - f),
                60,
                "the bot to drain",
            )
            target = tmp_path / f"copy-{index}.sqlite3"
            code = await asyncio.to_thread(main, ["backup", str(target), "--config", str(config)])
            assert code == 0
            copies.append(target)
        await wait_for(lambda: sandbox.world.pending() == 0, 120, "the bot to drain")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    offsets = []
    for copy in copies:
        offset, stored = copy_contents(copy, poll_id)
        assert 1 < offset <= total + 2
        assert stored == answers_before(updates, offset)
        offsets.append(offset)
    assert offsets[0] < offsets[1]
