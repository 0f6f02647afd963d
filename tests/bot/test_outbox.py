"""The outbox: a send's intent is committed before the request goes out, so a message that
reached a chat is never lost to the bot, whatever happened to the answer.

- The bot dies while Telegram answers a sendPoll: the poll is in the chat, not in the
  database. The update is handled again and the poll sent again (one repeat, and the admin
  is told); the first poll is adopted into its campaign when Telegram reports it, so its
  votes reach /results too.
- Telegram answers after the bot gave up (a timeout): the admin hears "not confirmed", not
  "refused", and the poll, which did arrive, is adopted the same way.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from bot.drafts import publishing
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import BotHarness, wait_for

QUESTION = "Which lineup?"


def polls_in(bot: BotHarness, chat_id: int) -> list[dict[str, object]]:
    return [m["poll"] for m in bot.bot_messages(chat_id) if "poll" in m]


async def vote_everywhere(bot: BotHarness) -> int:
    """One vote per poll the bot sent, by a different user each; how many votes."""
    polls = [poll for chat in (PLANTNEWS, AUTONEWS) for poll in polls_in(bot, chat)]
    for user, poll in enumerate(polls, start=5000):
        bot.world.vote(user, str(poll["id"]), [0])
    await bot.drain()
    return len(polls)


async def test_a_poll_sent_again_after_a_crash_is_tracked_and_the_admin_told(
    bot: BotHarness,
) -> None:
    raw = bot.queued_update(ADMIN, f"/newpoll {QUESTION} | A | B | @plantnews @autonews now")
    # Telegram takes the first sendPoll, and the bot dies before its answer is recorded.
    bot.world.fault("slow", method="sendPoll", chat_id=PLANTNEWS, delay=0.5)
    await bot.pump.process_batch([raw])  # the polls go out apart from it, in a task
    await asyncio.sleep(0.25)
    for task in list(bot.services.publishing_tasks):  # the bot dies while sending them
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await wait_for(lambda: len(polls_in(bot, PLANTNEWS)) == 1, 5, "the first poll to arrive")

    await publishing.resume(bot.application)  # the restart finishes what was left
    await bot.settle()

    assert len(polls_in(bot, PLANTNEWS)) == 2  # one repeat for the one crash
    assert len(polls_in(bot, AUTONEWS)) == 1
    report = bot.bot_messages(ADMIN)[-1]["text"]
    assert "Plant News" in report or "@plantnews" in report
    assert "may show twice" in report
    votes = await vote_everywhere(bot)
    campaign = await bot.store.latest_campaign()
    counts = await bot.store.counts_of(campaign.id)
    assert len(counts) == 3  # the lost poll was adopted into its campaign
    assert sum(poll.poll.total_voters for poll in counts) == votes == 3
    assert {poll.poll.chat_id for poll in counts} == {PLANTNEWS, AUTONEWS}


async def test_a_send_that_timed_out_but_arrived_is_not_confirmed_and_still_counted(
    bot: BotHarness,
) -> None:
    client = bot.application.bot.request._client  # type: ignore[attr-defined]
    client.timeout = httpx.Timeout(5.0, read=0.3)  # the 15 s read timeout, shortened
    bot.world.fault("slow", method="sendPoll", chat_id=PLANTNEWS, delay=0.8)

    await bot.say(ADMIN, f"/newpoll {QUESTION} | A | B | @plantnews @autonews now")
    await wait_for(lambda: len(polls_in(bot, PLANTNEWS)) == 1, 5, "the late poll to arrive")

    report = bot.bot_messages(ADMIN)[-1]["text"]
    assert "Not confirmed for" in report and "refused" not in report.lower()
    votes = await vote_everywhere(bot)
    campaign = await bot.store.latest_campaign()
    counts = await bot.store.counts_of(campaign.id)
    assert sum(poll.poll.total_voters for poll in counts) == votes == 2
