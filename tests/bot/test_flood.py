"""Flood control: a post to 30 channels under Telegram's limits loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.cast import ADMIN, ADMIN_RU
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
CHANNELS = [-1003000 - number for number in range(30)]
VOTERS_PER_POLL = 3


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """No configured channels: the targets are exactly the 30 approved ones."""
    section = f"admins = [{ADMIN}, {ADMIN_RU}]\nchannels = []\n"
    async with bot_harness(sandbox, tmp_path, paced=True, bot=section) as harness:
        yield harness


async def add_and_approve_channels(bot: BotHarness) -> None:
    """30 channels where the bot is already an admin, approved in one command.

    They are set up in the sandbox directly: no my_chat_member updates, so no 30 notices
    per admin that the private-chat pacing would spread over half a minute (the path
    from my_chat_member to approval is tested in test_admin)."""
    for admin in (ADMIN, ADMIN_RU):
        await bot.say(admin, "/start")
    for number, chat_id in enumerate(CHANNELS):
        bot.world.add_chat(chat_id, "channel", f"Flood {number}", f"flood{number:02d}")
    refs = " ".join(f"@flood{number:02d}" for number in range(len(CHANNELS)))
    (reply,) = await bot.say(ADMIN, f"/approve {refs}")
    assert reply["text"].count("approved") == len(CHANNELS)


async def vote_while_posting(bot: BotHarness, done: asyncio.Event) -> dict[str, int]:
    """Vote in each poll as soon as it appears, until the post is handled."""
    votes: dict[str, int] = {}
    voter = 50_000
    while not done.is_set() or len(votes) < len(bot.world.polls):
        for poll_id in list(bot.world.polls):
            while votes.get(poll_id, 0) < VOTERS_PER_POLL:
                bot.world.vote(voter, poll_id, [voter % 4])
                votes[poll_id] = votes.get(poll_id, 0) + 1
                voter += 1
        await asyncio.sleep(0.01)
    return votes


async def test_a_post_to_30_channels_under_flood_limits_is_delivered_once_each(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram's limits are on: 30 messages/s overall, 1/s per chat, 20/min per group.

    The post sends 61 messages (30 articles, 30 polls, the reply) as fast as it can, so the
    sandbox answers some of them 429; AIORateLimiter waits the retry_after and sends again.
    Each channel gets only two messages, well under 20/min, so the real per-group limit can
    stay on and the test still takes a few seconds. Votes cast while the post is being
    handled come in as updates afterwards; every one of them must be stored.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB warns about int retry_after otherwise
    await add_and_approve_channels(bot)
    bot.world.flood_limits(global_per_sec=30, per_chat_per_sec=1, per_group_per_min=20)
    first_call = len(bot.world.calls())

    done = asyncio.Event()
    voting = asyncio.create_task(vote_while_posting(bot, done))
    try:
        replies = await bot.say(ADMIN, f"/post {SEED}")
    finally:
        done.set()
    votes = await voting
    await bot.drain()

    assert "not posted" not in replies[-1]["text"]
    for chat_id in CHANNELS:
        messages = bot.messages(chat_id)
        assert sum("text" in m for m in messages) == 1, chat_id
        assert sum("poll" in m for m in messages) == 1, chat_id
    calls = bot.world.calls()[first_call:]
    assert any(c["error_code"] == 429 for c in calls), "the limits were never hit"
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    counts = await bot.store.counts_of(campaign.id)
    assert len(counts) == len(CHANNELS) == len(votes)
    for poll in counts:
        in_telegram = bot.world.poll(poll.poll.poll_id)["sandbox"]["counts"]
        assert [option.voter_count for option in poll.options] == in_telegram
        assert poll.poll.total_voters == VOTERS_PER_POLL
    assert await bot.store.dead_letters() == []


async def test_a_burst_to_one_private_chat_is_paced_instead_of_refused(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram wants ~1 message/s in a chat; AIORateLimiter does not pace a private one.

    Six messages to one admin at once, under a chat limit of 4 in any second: unpaced, the
    fifth and sixth would be answered 429. Paced (3 at once, then 1/s), none is, and a
    message to another admin does not wait behind them.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    for admin in (ADMIN, ADMIN_RU):
        await bot.say(admin, "/start")
    bot.world.flood_limits(global_per_sec=30, per_chat_per_sec=4, per_group_per_min=20)
    first_call = len(bot.world.calls())

    sender = bot.application.bot
    burst = [sender.send_message(ADMIN, f"notice {n}") for n in range(6)]
    other = asyncio.ensure_future(sender.send_message(ADMIN_RU, "to the other admin"))
    await asyncio.gather(*burst, other)

    calls = [c for c in bot.world.calls()[first_call:] if c["method"] == "sendMessage"]
    assert [c["error_code"] for c in calls if not c["ok"]] == []
    texts = [m["text"] for m in bot.messages(ADMIN)]
    assert sorted(texts[-6:]) == [f"notice {n}" for n in range(6)]
    other_at = next(c["time"] for c in calls if c["params"]["chat_id"] == ADMIN_RU)
    assert other_at < max(c["time"] for c in calls if c["params"]["chat_id"] == ADMIN)
