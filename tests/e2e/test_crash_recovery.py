"""The real ``pollbot run`` process, killed with SIGKILL while it drains 20,000 answers.

After every restart it resumes from the committed offset; at the end the stored answers
equal the sandbox's votes exactly: none lost, none doubled. Its log never shows the token.
"""

from __future__ import annotations

import random
import signal
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.sandbox import Sandbox
from storage import Store
from tests.cast import GROUP
from tests.harness import start_bot, wait_for, write_config

USERS = 5_000
ANSWERS = 20_000
OPTIONS = ["EVs with KAMAZ", "Partner brand", "Both tracks", "Commercial EVs"]


def crowd_answers(seed: int = 7, count: int = ANSWERS) -> list[list[object]]:
    """``count`` changes of mind from USERS voters: every one differs from the voter's last."""
    rng = random.Random(seed)
    current: dict[int, int | None] = {}
    votes: list[list[object]] = []
    while len(votes) < count:
        user = rng.randint(1, USERS)
        before = current.get(user)
        if before is not None and rng.random() < 0.1:
            choice: list[int] = []
            current[user] = None
        else:
            option = rng.choice([o for o in range(len(OPTIONS)) if o != before])
            choice = [option]
            current[user] = option
        votes.append([100_000 + user, "", choice])
    return votes


async def assert_stored_as_voted(sandbox: Sandbox, database: Path, poll_id: str) -> dict[str, Any]:
    """The stored answers are exactly the sandbox's votes (none lost, none doubled), the
    poll counts their voters, and nothing went to the dead letters; the votes."""
    expected = {
        str(voter): tuple(choice)
        for voter, choice in sandbox.world.poll(poll_id)["sandbox"]["votes"].items()
        if choice
    }
    async with await Store.open(database) as store:
        stored = {a.voter: a.positions async for a in store.answers(poll_id)}
        poll = await store.poll(poll_id)
        letters = await store.dead_letters()
    assert stored == expected
    assert poll is not None and poll.total_voters == len(expected)
    assert letters == []
    return expected


async def test_sigkill_while_draining_loses_and_doubles_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox)
    async with Bot(sandbox.token, base_url=sandbox.api_url) as client:
        message = await client.send_poll(GROUP, "Which lineup?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    poll_id = message.poll.id
    votes = crowd_answers()
    for vote in votes:
        vote[1] = poll_id
    result = sandbox.world.bulk_votes(votes)
    assert result["applied"] == ANSWERS and not result["refused"]
    total = sandbox.world.pending()
    log = tmp_path / "bot.log"

    for fraction in (0.15, 0.4, 0.65):
        process = start_bot(config, log)
        target = total * (1 - fraction)
        await wait_for(lambda t=target: sandbox.world.pending() <= t, 60, "the bot to drain")
        assert sandbox.world.pending() > 0, "the bot finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL

    process = start_bot(config, log)
    await wait_for(lambda: sandbox.world.pending() == 0, 120, "the bot to drain everything")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    expected = await assert_stored_as_voted(sandbox, tmp_path / "pollbot.sqlite3", poll_id)
    assert len(expected) > USERS * 0.8

    text = log.read_text(encoding="utf-8", errors="replace")
    secret = sandbox.token.split(":", 1)[1]
    assert "pollbot started" in text and "pollbot stopped" in text
    assert secret not in text
