"""Publishing apart from the update that asked (bot/drafts/publishing.py): votes keep
flowing while a post goes out, and a start finishes what a crash left half published."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"


def articles_in(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in bot.bot_messages(chat_id) if "poll" not in m]


def polls_in(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [m["poll"] for m in bot.bot_messages(chat_id) if "poll" in m]


async def test_votes_are_stored_while_a_post_is_still_going_out(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/newpoll Q? | a | b | @plantnews now")
    (poll,) = polls_in(bot, PLANTNEWS)
    campaign = await bot.store.latest_campaign()
    bot.world.fault("slow", method="sendMessage", chat_id=AUTONEWS, delay=1.0)
    post = bot.queued_update(ADMIN, f"/post {SEED} @plantnews @autonews now")

    await bot.pump.process_batch([post])  # stored at once: the post goes out apart from it
    bot.world.vote(5000, str(poll["id"]), [1])
    votes = await bot.pump.bot.get_updates_raw(await bot.store.offset(), 0)
    await bot.pump.process_batch(votes)

    (counts,) = await bot.store.counts_of(campaign.id)
    assert counts.poll.total_voters == 1
    assert articles_in(bot, AUTONEWS) == []  # the post still going out meanwhile
    await bot.settle()
    assert articles_in(bot, AUTONEWS) and len(polls_in(bot, AUTONEWS)) == 1
    assert "@autonews: posted" in bot.bot_messages(ADMIN)[-1]["text"]


async def test_a_start_finishes_a_post_a_crash_left_half_published(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        post = bot.queued_update(ADMIN, f"/post {SEED} @plantnews @autonews now")
        await bot.pump.process_batch([post])
        for task in list(bot.services.publishing_tasks):  # the bot dies before it sends
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert articles_in(bot, PLANTNEWS) == articles_in(bot, AUTONEWS) == []

    async with bot_harness(sandbox, tmp_path) as bot:  # catching up resumes the draft
        for chat in (PLANTNEWS, AUTONEWS):
            assert len(articles_in(bot, chat)) >= 1 and len(polls_in(bot, chat)) == 1
        (report,) = bot.bot_messages(ADMIN)
        assert "@plantnews: posted" in report["text"]
        assert (await bot.store.draft(1)).state == "published"


async def test_a_report_that_cannot_be_sent_still_ends_the_publishing(bot: BotHarness) -> None:
    """The admin blocked the bot after asking: the post goes out, the draft is marked
    published, and no start or press runs it again."""
    bot.world.fault("403", method="sendMessage", chat_id=ADMIN, times=1)
    await bot.say(ADMIN, f"/post {SEED} @plantnews now")
    await bot.settle()

    assert len(polls_in(bot, PLANTNEWS)) == 1
    assert await bot.store.publishing_drafts() == []


async def test_an_admin_hears_of_a_publishing_that_failed(bot: BotHarness) -> None:
    """Telegram fails the report with a 500: the admin gets the error id (the details are
    in the log) instead of a silence, and the draft stays to be finished later."""
    bot.world.fault("500", method="sendMessage", chat_id=ADMIN, times=1)
    await bot.say(ADMIN, f"/post {SEED} @plantnews now")
    await bot.settle()

    assert "Publishing draft #1 failed (error " in bot.bot_messages(ADMIN)[-1]["text"]
    assert len(await bot.store.publishing_drafts()) == 1


async def test_a_press_whose_draft_another_task_published_still_marks_its_preview(
    bot: BotHarness,
) -> None:
    """A press made while the bot was down races the start's resume of the same draft: if
    the resume publishes first, the press's task finds it published and must still mark
    the pressed preview (before, its buttons stayed)."""
    from bot.drafts import publishing

    await bot.say(ADMIN, f"/post {SEED} @plantnews now")
    await bot.settle()
    marked: list[int] = []

    async def on_done() -> None:
        marked.append(1)

    publishing.start(bot.application, 1, on_done)  # the press's task, second to the lock
    await bot.settle()
    assert marked == [1]
    assert len(polls_in(bot, PLANTNEWS)) == 1  # and nothing is sent again
