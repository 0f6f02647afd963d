"""Quiet digests: a scheduled digest goes out only when something changed in its chat;
polls with votes come first, and week over week."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.digests.compose import DigestRequest, compose
from bot.polls.scope import Audience
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.bot.test_digests import HOUR, bot_posts, digest_bot, post_poll, run_job, text_of, vote
from tests.cast import ADMIN, CHANNEL_ADMIN, PLANTNEWS
from tests.harness import BotHarness


async def every_minute(bot: BotHarness) -> int:
    await bot.say(ADMIN, '/schedule "* * * * *" @plantnews UTC')
    (schedule,) = await bot.store.schedules()
    return int(schedule.id)


async def test_a_per_minute_schedule_sends_nothing_while_nothing_changes_then_one_after_a_vote(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await every_minute(bot)
        _, (plant_poll, _auto) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [0])
        clock.advance(60)
        await run_job(bot, schedule_id)
        assert len(bot_posts(bot, PLANTNEWS)) == 1  # the first digest
        for _minute in range(3):
            clock.advance(60)
            await run_job(bot, schedule_id)
        assert len(bot_posts(bot, PLANTNEWS)) == 1  # nothing changed: nothing sent

        await vote(bot, plant_poll, 5100, [1])
        clock.advance(60)
        await run_job(bot, schedule_id)
        clock.advance(60)
        await run_job(bot, schedule_id)
        posts = bot_posts(bot, PLANTNEWS)
        assert len(posts) == 2 and "(+1)" in text_of(posts[1])


async def test_skip_unchanged_off_sends_every_time(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(
        sandbox, tmp_path, clock, digest="charts = false\nskip_unchanged = false\n"
    ) as bot:
        schedule_id = await every_minute(bot)
        _, (plant_poll, _auto) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [0])
        for _minute in range(2):
            clock.advance(60)
            await run_job(bot, schedule_id)
        assert len(bot_posts(bot, PLANTNEWS)) == 2


async def test_a_digest_lists_polls_with_votes_first_and_leaves_out_unchanged_empty_ones(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        schedule_id = await every_minute(bot)
        _, (busy, _a) = await post_poll(bot, question="Busy question?")
        await post_poll(bot, question="Empty question?")
        _, (newest, _c) = await post_poll(bot, question="Newest question?")
        await vote(bot, busy, 5000, [0, 1])
        await vote(bot, newest, 6000, [0])
        clock.advance(60)
        await run_job(bot, schedule_id)
        text = text_of(bot_posts(bot, PLANTNEWS)[0])
        # largest first; the empty poll is new here, so listed, last
        assert text.index("Busy") < text.index("Newest") < text.index("Empty")

        await vote(bot, busy, 5100, [0])
        clock.advance(60)
        await run_job(bot, schedule_id)
        second = text_of(bot_posts(bot, PLANTNEWS)[1])
        assert "Busy" in second and "Newest" in second and "Empty" not in second


async def test_week_over_week_shows_the_change_since_a_week_earlier(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        _, (plant_poll, _auto) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [0, 1])
        await bot.say(ADMIN, "/digest @plantnews")
        assert "Week over week" not in text_of(bot_posts(bot, PLANTNEWS)[0])
        clock.advance(timedelta(days=7).total_seconds())
        await vote(bot, plant_poll, 5100, [0, 0, 2])
        await bot.say(ADMIN, "/digest @plantnews")
        assert "Voters, week over week: +3" in text_of(bot_posts(bot, PLANTNEWS)[1])


async def test_an_empty_poll_left_out_of_a_digest_is_not_news_in_the_next(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        schedule_id = await every_minute(bot)
        _, (busy, _auto) = await post_poll(bot, question="Busy question?")
        await post_poll(bot, question="Empty question?")
        await vote(bot, busy, 5000, [0])
        clock.advance(60)
        await run_job(bot, schedule_id)  # both: the empty one is new
        await vote(bot, busy, 5100, [1])
        clock.advance(60)
        await run_job(bot, schedule_id)  # the busy one changed; the empty one is left out
        sent = len(bot_posts(bot, PLANTNEWS))
        assert "Empty question?" not in text_of(bot_posts(bot, PLANTNEWS)[-1])
        for _minute in range(3):
            clock.advance(60)
            await run_job(bot, schedule_id)
        assert len(bot_posts(bot, PLANTNEWS)) == sent


async def test_a_hidden_poll_ranks_as_if_it_had_no_voters_in_a_chat_digest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        schedule_id = await every_minute(bot)
        _, (shown, _a) = await post_poll(bot, question="Shown question?")
        await bot.say(ADMIN, "/newpoll Hidden question? | x | y | hide 2d @plantnews")
        (hidden,) = await bot.store.polls_of(int((await bot.store.latest_campaign()).id))
        await vote(bot, hidden.poll_id, 6000, [0, 0, 1])
        await vote(bot, shown, 5000, [0])
        clock.advance(60)
        await run_job(bot, schedule_id)
        text = text_of(bot_posts(bot, PLANTNEWS)[-1])
        assert text.index("Shown question?") < text.index("Hidden question?")


async def test_summary_readers_only_in_a_view_of_every_chat(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        await post_poll(bot, question="Keep the old name?", article_id="plant")
        await bot.store.record_summary_request("plant", 9001, "en")
        now = clock.utc()
        request = DigestRequest(None, CHANNEL_ADMIN, "en", ZoneInfo("UTC"), now, now)
        everywhere = Audience("en", None, admin=True)
        some = Audience("en", frozenset({PLANTNEWS}), admin=True)
        (all_chats,) = (await compose(bot.store, request, everywhere, trends=False)).campaigns
        (one_chat,) = (await compose(bot.store, request, some, trends=False)).campaigns
        assert all_chats.readers == 1 and one_chat.readers is None
