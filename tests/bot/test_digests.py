"""Digests end to end: scheduled and on demand, counts, deltas, charts, schedule commands.

The builders at the top (a bot with a test clock, polls, votes) serve the other digest
test modules too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import CallbackContext

from bot.admin.chats import resolve_all
from bot.digests import charts as digest_charts
from bot.digests.charts import ChartData, OptionResult, render_chart
from bot.digests.schedules import job_name
from bot.polls.campaigns import send_campaign
from bot.polls.spec import PollSpec
from bot.sandbox import Sandbox
from bot.texts import bar, shares
from storage.clock import ManualClock
from tests.cast import ADMIN, ADMIN_RU, AUTONEWS, PLANTNEWS, READER
from tests.harness import BotHarness, bot_harness

# An hour boundary two hours ago: the digests of the tests fall due then and an hour or two
# later. The test's clock is the store's too, so campaigns and snapshots are stamped by it.
# The update a set-up campaign is sent for: negative ids, never one the sandbox hands out.
SETUP_UPDATES = itertools.count(-1, -1)
HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


def digest_bot(
    sandbox: Sandbox, directory: Path, clock: ManualClock, *, paused: bool = True, **sections: str
) -> AbstractAsyncContextManager[BotHarness]:
    """The real bot on ``directory``'s database, with ``clock`` as its clock (the
    JobQueue paused unless asked otherwise, so that only the test runs jobs)."""
    return bot_harness(sandbox, directory, clock=clock, paused=paused, **sections)


async def post_poll(
    bot: BotHarness,
    refs: Sequence[str] = ("@plantnews", "@autonews"),
    question: str = "Which lineup should the plant build?",
    options: Sequence[str] = ("Electric trucks", "City buses", "Passenger cars"),
    article_id: str | None = None,
) -> tuple[int, list[str]]:
    """Send a campaign to ``refs``; return its id and its poll ids (in ``refs`` order)."""
    context: Any = CallbackContext(bot.application)
    targets, errors = await resolve_all(context, list(refs))
    assert not errors
    outcome = await send_campaign(
        context, PollSpec(question, tuple(options)), targets, origin=f"test:{question}",
        update_id=next(SETUP_UPDATES), created_by=ADMIN, article_id=article_id,
    )  # fmt: skip
    polls = await bot.store.polls_of(outcome.campaign.id)
    return outcome.campaign.id, [poll.poll_id for poll in polls]


async def vote(bot: BotHarness, poll_id: str, first_voter: int, choices: Sequence[int]) -> None:
    """One voter per choice (ids from ``first_voter`` up), then let the bot see the polls."""
    for offset, choice in enumerate(choices):
        bot.world.vote(first_voter + offset, poll_id, [choice])
    await bot.drain()


async def run_job(bot: BotHarness, schedule_id: int) -> None:
    """Run a schedule's JobQueue job now, as APScheduler would at its time."""
    assert bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name(job_name(schedule_id))
    await job.run(bot.application)


def bot_posts(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    """What the bot posted in a chat (polls left out)."""
    return [
        m for m in bot.messages(chat_id)
        if "poll" not in m and (m.get("from", {}).get("is_bot") or chat_id < 0)
    ]  # fmt: skip


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


# -- scheduled digests ------------------------------------------------------------------

SCHEDULE = '/schedule "0 * * * *" @plantnews UTC'


async def schedule_hourly(bot: BotHarness) -> int:
    """An admin schedules hourly digests to @plantnews; return the schedule's id."""
    await bot.say(ADMIN, SCHEDULE)
    (schedule,) = await bot.store.schedules()
    return int(schedule.id)


async def test_scheduled_digests_show_counts_then_the_change_and_a_new_leader(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await schedule_hourly(bot)
        _, (plant_poll, auto_poll) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [0, 0, 1])
        await vote(bot, auto_poll, 6000, [0])
        await run_job(bot, schedule_id)  # at HOUR - 10 min nothing is due yet
        assert bot_posts(bot, PLANTNEWS) == []

        clock.set(HOUR + timedelta(seconds=5))
        await run_job(bot, schedule_id)
        (first,) = bot_posts(bot, PLANTNEWS)
        text = text_of(first)
        assert "Which lineup should the plant build?" in text
        # @plantnews's own counts only: not @autonews's vote, nor a split by chat
        trucks, buses, cars = shares([2, 1, 0], 3)
        assert "3 voters" in text and "(+" not in text
        assert f"Electric trucks\n{bar(2 / 3)} {trucks} (2)" in text
        assert f"City buses\n{bar(1 / 3)} {buses} (1)" in text
        assert f"Passenger cars\n{bar(0)} {cars} (0)" in text
        assert "By chat" not in text and "@autonews" not in text
        assert HOUR.strftime("%Y-%m-%d %H:%M UTC") in text

        await vote(bot, plant_poll, 7000, [1, 1, 1, 1])  # buses overtake trucks
        clock.set(HOUR + timedelta(hours=1, seconds=5))
        await run_job(bot, schedule_id)
        second = text_of(bot_posts(bot, PLANTNEWS)[1])
        trucks, buses, _ = shares([2, 5, 0], 7)
        assert "7 voters (+4)" in second
        assert f"City buses\n{bar(5 / 7)} {buses} (5, +4)" in second
        assert f"Electric trucks\n{bar(2 / 7)} {trucks} (2)" in second
        assert "New leader: City buses (was Electric trucks)" in second

        digests = await bot.store.digests(PLANTNEWS)
        assert [d.due_at for d in digests] == [
            int(HOUR.timestamp()), int(HOUR.timestamp()) + 3600,
        ]  # fmt: skip
        assert all(d.sent_at is not None and d.schedule_id == schedule_id for d in digests)


async def test_a_job_run_twice_for_one_due_time_sends_one_digest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await schedule_hourly(bot)
        await post_poll(bot)
        clock.set(HOUR + timedelta(seconds=1))
        await run_job(bot, schedule_id)
        clock.set(HOUR + timedelta(seconds=40))
        await run_job(bot, schedule_id)
        assert len(bot_posts(bot, PLANTNEWS)) == 1


async def test_apscheduler_fires_a_minutely_schedule(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with digest_bot(sandbox, tmp_path, clock, paused=False) as bot:
        await bot.say(ADMIN, '/schedule "* * * * *" @plantnews')
        await post_poll(bot)
        (schedule,) = await bot.store.schedules()
        assert bot.application.job_queue is not None
        (job,) = bot.application.job_queue.get_jobs_by_name(job_name(schedule.id))
        assert job.next_t is not None and job.next_t.second == 0
        clock.set(job.next_t + timedelta(seconds=1))
        job.job.modify(next_run_time=datetime.now(UTC))  # fire now rather than in a minute
        for _ in range(100):
            if bot_posts(bot, PLANTNEWS):
                break
            await asyncio.sleep(0.05)
        (posted,) = bot_posts(bot, PLANTNEWS)
        assert "Which lineup should the plant build?" in text_of(posted)
        (digest,) = await bot.store.digests(PLANTNEWS)
        assert digest.due_at == int(job_next(clock).timestamp())


def job_next(clock: ManualClock) -> datetime:
    """The minute the clock was set just after."""
    return clock.utc().replace(second=0, microsecond=0)


# -- charts -----------------------------------------------------------------------------


async def test_the_chart_is_a_png_drawn_from_the_stored_counts_and_their_trend(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[list[ChartData]] = []

    def spy(charts: Sequence[ChartData], language: str, *, timezone: tzinfo) -> bytes:
        drawn.append(list(charts))
        return render_chart(charts, language, timezone=timezone)

    monkeypatch.setattr(digest_charts, "render_chart", spy)
    clock = ManualClock(HOUR - timedelta(hours=1))  # the snapshots are stamped by it too
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await schedule_hourly(bot)
        _, (plant_poll, auto_poll) = await post_poll(bot)
        for step, choice in enumerate([0, 1, 1, 2, 1]):
            clock.advance(500)
            await vote(bot, plant_poll, 5000 + step, [choice])
        clock.advance(500)
        await vote(bot, auto_poll, 6000, [0])
        clock.set(HOUR + timedelta(seconds=5))
        await run_job(bot, schedule_id)

        (posted,) = bot_posts(bot, PLANTNEWS)
        (photo,) = posted["photo"]
        png = bot.world.file(photo["file_id"]).data
        assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20]), int.from_bytes(png[20:24])
        assert width == 1080 and 400 < height < 4000 and 10_000 < len(png) < 2_000_000
        assert len(bot.world.calls("sendPhoto")) == 1
        assert len(text_of(posted)) <= 1024  # the whole digest fits in the caption

        (chart,) = drawn[0]  # @plantnews's counts only (the vote in @autonews is not drawn)
        assert chart.title == "Which lineup should the plant build?"
        assert chart.options == (
            OptionResult("Electric trucks", 1), OptionResult("City buses", 3),
            OptionResult("Passenger cars", 1),
        )  # fmt: skip
        assert chart.total_voters == 5
        assert [point.counts for point in chart.trend] == [
            (1, 0, 0), (1, 1, 0), (1, 2, 0), (1, 2, 1), (1, 3, 1), (1, 3, 1),
        ]  # fmt: skip
        assert chart.trend[-1].at == clock.utc()  # the trend ends with the current counts

        await vote(bot, plant_poll, 7000, [2, 2])
        clock.set(HOUR + timedelta(hours=1, seconds=5))
        await run_job(bot, schedule_id)
        second = bot_posts(bot, PLANTNEWS)[1]
        assert drawn[1][0].options[2] == OptionResult("Passenger cars", 3)
        assert bot.world.file(second["photo"][0]["file_id"]).data != png


async def test_without_charts_the_digest_is_text_only(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock, digest="charts = false\n") as bot:
        schedule_id = await schedule_hourly(bot)
        await post_poll(bot)
        clock.set(HOUR + timedelta(seconds=5))
        await run_job(bot, schedule_id)
        (posted,) = bot_posts(bot, PLANTNEWS)
        assert "photo" not in posted and "Which lineup" in posted["text"]
        assert bot.world.calls("sendPhoto") == []


async def test_a_long_digest_is_split_into_messages_within_telegram_limits(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await schedule_hourly(bot)
        options = [f"Option {n}: " + "a rather long answer to choose " * 2 for n in range(10)]
        for n in range(12):
            await post_poll(bot, ("@plantnews",), f"Question {n} " + "why? " * 50, options)
        clock.set(HOUR + timedelta(seconds=5))
        await run_job(bot, schedule_id)
        posted = bot_posts(bot, PLANTNEWS)
        assert len(posted) > 3
        assert "photo" in posted[0] and "Poll digest" in posted[0]["caption"]
        assert all(len(m["caption"]) <= 1024 for m in posted if "caption" in m)
        html = [m["sandbox"]["html"] for m in posted[1:]]
        assert all(len(text.encode("utf-16-le")) // 2 <= 4096 for text in html)
        for n in range(12):  # every question is there, each block whole in one message
            assert sum(f"Question {n} " in m["text"] for m in posted[1:]) == 1
        (digest,) = await bot.store.digests(PLANTNEWS)
        assert list(digest.message_ids) == [m["message_id"] for m in posted]


# -- /digest ----------------------------------------------------------------------------


async def test_digest_now_comes_to_the_admin_or_goes_to_a_channel(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR)
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        _, (plant_poll, _) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [1, 1])
        (here,) = await bot.say(ADMIN, "/digest")
        assert "photo" in here and "City buses" in text_of(here) and "100% (2)" in text_of(here)

        (answer,) = await bot.say(ADMIN, "/digest @autonews")
        assert text_of(answer) == "Digest sent to @autonews."
        (there,) = bot_posts(bot, AUTONEWS)
        assert "Which lineup should the plant build?" in text_of(there)

        await vote(bot, plant_poll, 6000, [0])
        (again,) = await bot.say(ADMIN, "/digest")  # compared with the admin's last one
        assert "3 votes in 2 chats" in text_of(again) and "(+1)" in text_of(again)
        assert "By chat: @plantnews 3 · @autonews 0" in text_of(again)
        entries = [(e.action, e.target, e.result) for e in await bot.store.audit_entries()]
        assert entries[:3] == [("digest", str(ADMIN), "ok"),
                               ("digest", str(AUTONEWS), "ok"),
                               ("digest", str(ADMIN), "ok")]  # fmt: skip


async def test_a_digest_in_russian_for_a_russian_admin(sandbox: Sandbox, tmp_path: Path) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR)) as bot:
        await post_poll(bot)
        (here,) = await bot.say(ADMIN_RU, "/digest")
        text = text_of(here)
        assert "Дайджест опросов" in text and "1 открытый опрос" in text


async def test_closed_polls_appear_once_after_closing_and_summary_readers_are_counted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        schedule_id = await schedule_hourly(bot)
        _, (lineup, _auto) = await post_poll(bot, question="Which lineup?")
        closing, _ = await post_poll(bot, question="Keep the old name?", article_id="plant")
        clock.set(HOUR + timedelta(seconds=5))
        await run_job(bot, schedule_id)
        await bot.store.close_campaign(closing, at=int(HOUR.timestamp()) + 1800)
        await vote(bot, lineup, 5000, [0])  # news in each digest: none is skipped as unchanged
        clock.set(HOUR + timedelta(hours=1, seconds=5))
        await run_job(bot, schedule_id)
        await vote(bot, lineup, 5100, [1])
        clock.set(HOUR + timedelta(hours=2, seconds=5))
        await run_job(bot, schedule_id)
        first, second, third = (text_of(m) for m in bot_posts(bot, PLANTNEWS))
        # Readers are counted over every chat: only the admin view shows them.
        assert "Keep the old name?" in first and "Summary requested by" not in first
        assert "1 open poll · 1 closed" in second and "Keep the old name?" in second
        assert f"Poll #{closing} · closed" in second
        assert "Keep the old name?" not in third and "Which lineup?" in third
        (private,) = await bot.say(ADMIN, "/digest")
        assert "Summary requested by 0 readers" in text_of(private)


async def test_only_admins_get_digests_and_schedules(sandbox: Sandbox, tmp_path: Path) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR)) as bot:
        for command in ("/digest", '/schedule "0 20 * * *"', "/schedules", "/unschedule 1"):
            (answer,) = await bot.say(READER, command)
            assert "only the bot's admins" in text_of(answer)
        assert await bot.store.schedules() == []
        assert await bot.store.digests() == []


async def test_a_replayed_digest_command_makes_one_digest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A crash after /digest was handled replays it: the digest is not claimed twice (the
    next digest's changes are counted from the one the chat got), nor sent twice."""
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR)) as bot:
        await post_poll(bot)
        await bot.say(ADMIN, "/start")
        queued = bot.world.send(ADMIN, "/digest")["update"]
        assert queued is not None
        await bot.pump.process_batch([dict(queued)])
        sent = len(bot_posts(bot, ADMIN))
        await bot.pump.process_batch([dict(queued)])
        assert len(bot_posts(bot, ADMIN)) == sent
        (digest,) = await bot.store.digests(ADMIN)
        assert digest.sent_at is not None


async def test_a_digest_interrupted_part_way_is_finished_by_the_replay(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR)) as bot:
        await post_poll(bot)
        await bot.say(ADMIN, "/start")
        first_call = len(bot.world.calls())
        queued = bot.world.send(ADMIN, "/digest")["update"]
        assert queued is not None
        bot.world.fault("500", method="sendPhoto", chat_id=ADMIN, times=1)

        def photos() -> list[bool]:
            calls = bot.world.calls()[first_call:]
            return [c["ok"] for c in calls if c["method"] == "sendPhoto"]

        await bot.pump.process_batch([dict(queued)])  # the digest (one photo) failed to go
        assert photos() == [False]
        (first,) = await bot.store.digests(ADMIN)
        assert first.sent_at is None
        await bot.pump.process_batch([dict(queued)])
        assert photos() == [False, True]
        (digest,) = await bot.store.digests(ADMIN)
        assert digest.id == first.id and digest.sent_at is not None
