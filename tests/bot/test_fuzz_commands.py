"""Bad arguments at every command: a clear answer each time, never the generic error.

Every command gets each argument of NASTY as the bot's admin, in a private chat, and
Hypothesis draws more made to hurt: digits that are not ASCII, numbers of thousands of
digits, ids beyond 64 bits, HTML, line breaks, texts far over Telegram's limits, any
unicode. For every one the bot must answer, no update may fail (no dead letter, no
"Something went wrong"), and Telegram (the sandbox, which validates like Telegram) must
have refused no call, but for looking up a chat that does not exist: a well-formed id of
no chat can only be found out by asking.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import COMMANDS
from bot.sandbox import Sandbox
from tests.cast import ADMIN
from tests.harness import BotHarness, bot_harness

NAMES = sorted({"start", "help", "summary", "results", *(c.name for c in COMMANDS)})
NASTY = [
    "²",
    "①",
    "٣",
    "𝟗",
    "9" * 5000,
    str(2**64),
    str(-(2**64)),
    "-100" + "9" * 30,
    "#" + str(2**63),
    "<b>bold</b>",
    "a & b < c",
    "<a href='x'>",
    "line\nbreak",
    "x" * 10_000,
    "@" + "a" * 40,
    "t.me/" + "a" * 40,
    "0",
    "-1",
    "1e9",
    "NaN",
    "|",
    "| | |",
    "quiz=99999999999999999999999",
    "close=9999-99-99",
    "close=2026-12-01T18:00+99:00",
    "desc=" + "d" * 5000,
    "why=a\nb\nc",
    "999999999999999999999d",
    '"* * * * *" @plantnews Mars/Olympus',
    '"0 0 31 2 *"',
]
WORDS = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=1, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The bot without digest charts: drawing them is not what is tested, and costs."""
    async with bot_harness(sandbox, tmp_path, digest="charts = false\n") as harness:
        yield harness


def refused_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls Telegram refused, but for a lookup of a chat that does not exist."""
    return [
        c
        for c in calls
        if not c["ok"] and not (c["method"] == "getChat" and "not found" in c["description"])
    ]


async def say_and_check(bot: BotHarness, text: str) -> None:
    """The admin sends ``text``: an answer, no failed update, no call Telegram refused."""
    calls = len(bot.world.calls())
    replies = await bot.say(ADMIN, text)
    assert replies, f"no answer to {text[:200]!r}"
    for reply in replies:
        assert "Something went wrong" not in reply.get("text", ""), text[:200]
    assert await bot.store.dead_letters() == [], text[:200]
    refused = refused_calls(bot.world.calls()[calls:])
    assert refused == [], (text[:200], refused[:1])


async def test_every_command_answers_each_nasty_argument(bot: BotHarness) -> None:
    for name in NAMES:
        for word in NASTY:
            await say_and_check(bot, f"/{name} {word}")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(NAMES), words=st.lists(WORDS, min_size=0, max_size=4))
async def test_every_command_answers_random_arguments_clearly(
    bot: BotHarness, name: str, words: list[str]
) -> None:
    await say_and_check(bot, f"/{name} " + " ".join(words))
