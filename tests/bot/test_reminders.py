"""Reminders: one reply to the poll in each chat before it closes, none once it closed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import CallbackContext

from bot.polls import closing
from bot.polls.reminders import JOB_PREFIX
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import BotHarness, bot_harness


def reminders(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in bot.bot_messages(chat_id) if "The poll closes in" in m.get("text", "")]


async def run_reminder_job(bot: BotHarness, campaign_id: int) -> None:
    """Run the campaign's reminder job now, as the JobQueue would at its time."""
    assert bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name(f"{JOB_PREFIX}{campaign_id}")
    await job.run(bot.application)


def later(bot: BotHarness, clock: ManualClock, seconds: int) -> None:
    """Time passes, for Telegram (the sandbox) and the bot alike."""
    bot.world.advance(seconds)
    clock.advance(seconds)


async def new_campaign(bot: BotHarness, settings: str) -> int:
    await bot.say(ADMIN, f"/newpoll Best car? | Lada | Moskvich | {settings} @plantnews @autonews")
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    return int(campaign.id)


async def test_a_reminder_arrives_once_in_each_chat_as_a_reply_to_its_poll(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        campaign_id = await new_campaign(bot, "2h remind=1h")
        later(bot, clock, 1800)
        await run_reminder_job(bot, campaign_id)  # early: not due yet
        assert reminders(bot, PLANTNEWS) == [] and reminders(bot, AUTONEWS) == []

        later(bot, clock, 1805)  # the bot's clock stood still while the test ran: catch up
        await run_reminder_job(bot, campaign_id)
        await run_reminder_job(bot, campaign_id)  # again: nothing more
        for chat_id in (PLANTNEWS, AUTONEWS):
            (reminder,) = reminders(bot, chat_id)
            (poll,) = [m for m in bot.bot_messages(chat_id) if "poll" in m]
            assert reminder["text"] == "⏰ The poll closes in 1 hour"
            assert reminder["reply_to_message"]["message_id"] == poll["message_id"]


async def test_no_reminder_for_a_poll_closed_before_it_and_the_config_default(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(
        sandbox, tmp_path, clock=clock, paused=True, polls='remind_before = "30m"\n'
    ) as bot:
        closed_id = await new_campaign(bot, "3h")
        kept_id = await new_campaign(bot, "3h")
        await bot.say(ADMIN, f"/close {closed_id}")
        later(bot, clock, 3 * 3600 - 1795)
        await run_reminder_job(bot, kept_id)
        for chat_id in (PLANTNEWS, AUTONEWS):
            (reminder,) = reminders(bot, chat_id)  # the open poll's, from [polls] remind_before
            assert reminder["text"] == "⏰ The poll closes in 30 minutes"
            polls = [m for m in bot.bot_messages(chat_id) if "poll" in m]
            assert reminder["reply_to_message"]["message_id"] == polls[1]["message_id"]


async def test_no_reminder_when_it_would_come_before_the_poll_or_is_turned_off(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(
        sandbox, tmp_path, clock=clock, paused=True, polls='remind_before = "1h"\n'
    ) as bot:
        await new_campaign(bot, "30m")  # the config's hour is longer than its life
        off_id = await new_campaign(bot, "3h remind=off")
        refused = await bot.say(ADMIN, "/newpoll Q? | a | b | 30m remind=1h @plantnews")
        assert "open only 1800 seconds" in refused[-1]["text"]
        assert bot.application.job_queue is not None
        assert bot.application.job_queue.get_jobs_by_name(f"{JOB_PREFIX}{off_id}") == ()
        context: Any = CallbackContext(bot.application)
        for _ in range(2):
            later(bot, clock, 60)
            await closing.expire_job(context)
        later(bot, clock, 3 * 3600 - 3500)
        await closing.expire_job(context)
        assert reminders(bot, PLANTNEWS) == [] and reminders(bot, AUTONEWS) == []


async def test_reminders_get_their_jobs_again_at_start(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        campaign_id = await new_campaign(bot, "2h remind=1h")
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        later(bot, clock, 3605)
        await run_reminder_job(bot, campaign_id)  # the job the start registered
        assert len(reminders(bot, PLANTNEWS)) == 1 and len(reminders(bot, AUTONEWS)) == 1
