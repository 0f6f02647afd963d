"""Posts at a set time: /post … at / in, /queue, /unqueue, the JobQueue job under the
bot's clock, and restarts (registered again; sent at start within the grace time, else
reported as missed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.articles.scheduled import job_name, on_caught_up
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from storage.compose import QUEUED
from tests.cast import ADMIN, CHANNEL_ADMIN, PLANTNEWS
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POST = f"/post {SEED} @plantnews at 2026-12-01 09:00"


def scheduled_bot(sandbox: Sandbox, path: Path, clock: ManualClock, **sections: str) -> Any:
    return bot_harness(sandbox, path, clock=clock, paused=True, **sections)


def posts(bot: BotHarness) -> list[dict[str, Any]]:
    return bot.bot_messages(PLANTNEWS)


async def run_job(bot: BotHarness, post_id: int) -> None:
    """Run a scheduled post's JobQueue job now, as APScheduler would at its time."""
    assert bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name(job_name(post_id))
    await job.run(bot.application)


def jobs(bot: BotHarness) -> list[str]:
    assert bot.application.job_queue is not None
    return [job.name or "" for job in bot.application.job_queue.jobs()]


async def test_a_scheduled_post_goes_out_once_at_its_time(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(NOW)
    async with scheduled_bot(sandbox, tmp_path, clock) as bot:
        (queued,) = await bot.say(ADMIN, POST)
        assert queued["text"].startswith(
            f"Scheduled post #1: {SEED} to @plantnews at 2026-12-01 09:00 UTC."
        )
        assert job_name(1) in jobs(bot)
        (listing,) = await bot.say(ADMIN, "/queue")
        assert "#1 · 2026-12-01 09:00 UTC · moscow-plant-reboot" in listing["text"]

        await run_job(bot, 1)  # early, by the bot's clock: nothing
        assert posts(bot) == []
        clock.set(DUE)
        await run_job(bot, 1)
        sent = posts(bot)
        assert len([m for m in sent if "poll" in m]) == 1 and sent[0]["text"].startswith("Moscow")
        report = bot.bot_messages(ADMIN)[-1]["text"]
        assert "@plantnews: posted" in report
        await run_job(bot, 1)  # a second run sends nothing
        assert posts(bot) == sent
        (post,) = await bot.store.scheduled_posts("sent")
        assert post.id == 1
        (listing,) = await bot.say(ADMIN, "/queue")
        assert "Scheduled posts: 0" in listing["text"]


async def test_in_2h_is_counted_from_now(sandbox: Sandbox, tmp_path: Path) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        (queued,) = await bot.say(ADMIN, f"/post {SEED} @plantnews in 2h")
        assert "at 2026-11-27 14:00 UTC" in queued["text"]


async def test_a_cancelled_post_never_goes_out(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    async with scheduled_bot(sandbox, tmp_path, clock) as bot:
        await bot.say(ADMIN, POST)
        (cancelled,) = await bot.say(ADMIN, "/unqueue 1")
        assert cancelled["text"] == "Scheduled post #1 is cancelled: it will not go out."
        assert job_name(1) not in jobs(bot)
        (again,) = await bot.say(ADMIN, "/unqueue 1")
        assert "There is no waiting scheduled post #1" in again["text"]
    async with scheduled_bot(sandbox, tmp_path, ManualClock(DUE + timedelta(minutes=5))) as bot:
        assert posts(bot) == []
        assert job_name(1) not in jobs(bot)


async def test_only_its_author_or_a_bot_admin_may_unqueue(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
        (refused,) = await bot.say(CHANNEL_ADMIN, "/unqueue 1")
        assert "There is no waiting scheduled post #1" in refused["text"]
        (listing,) = await bot.say(CHANNEL_ADMIN, "/queue")
        assert "Scheduled posts: 0" in listing["text"]


async def test_a_waiting_post_is_registered_again_at_start(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
    clock = ManualClock(NOW + timedelta(hours=1))
    async with scheduled_bot(sandbox, tmp_path, clock) as bot:
        assert job_name(1) in jobs(bot)
        clock.set(DUE)
        await run_job(bot, 1)
        assert len([m for m in posts(bot) if "poll" in m]) == 1


async def test_a_post_due_while_down_goes_out_at_start_within_the_grace_time(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
    async with scheduled_bot(sandbox, tmp_path, ManualClock(DUE + timedelta(minutes=30))) as bot:
        assert len([m for m in posts(bot) if "poll" in m]) == 1
    async with scheduled_bot(sandbox, tmp_path, ManualClock(DUE + timedelta(minutes=40))) as bot:
        assert len([m for m in posts(bot) if "poll" in m]) == 1  # not again


async def test_a_post_later_than_the_grace_time_is_reported_as_missed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
    late = ManualClock(DUE + timedelta(hours=3))
    async with scheduled_bot(sandbox, tmp_path, late, digest="grace_minutes = 120\n") as bot:
        assert posts(bot) == []
        notice = bot.bot_messages(ADMIN)[-1]["text"]
        assert "Scheduled post #1 (moscow-plant-reboot) was due at 2026-12-01 09:00 UTC" in notice
        (post,) = await bot.store.scheduled_posts("missed")
        assert post.id == 1


async def test_a_post_claimed_before_a_crash_is_finished_without_repeats(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Claimed, and the article's first part sent, then the process died: the next start
    finishes the post (the poll) and sends no part twice."""
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        bot.services.store.clock.set(DUE)  # type: ignore[attr-defined]
        assert await bot.store.claim_scheduled_post(1)
        await bot.application.bot.send_message(PLANTNEWS, "part sent before the crash")
        await bot.store.record_sent(f"p1:article:{PLANTNEWS}:0", PLANTNEWS, 1)
    async with scheduled_bot(sandbox, tmp_path, ManualClock(DUE + timedelta(days=1))) as bot:
        sent = posts(bot)
        assert sent[0]["text"] == "part sent before the crash"
        assert len([m for m in sent if "poll" in m]) == 1
        assert not any(m.get("text", "").startswith("Moscow") for m in sent)
        (post,) = await bot.store.scheduled_posts("sent")
        assert post.id == 1


async def test_a_post_its_job_claimed_during_the_catch_up_is_not_sent_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The JobQueue starts before the catch-up ends: a post claimed by its job in this
    process is its job's to send, not the catch-up's."""
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        bot.services.store.clock.set(DUE)  # type: ignore[attr-defined]
        assert await bot.store.claim_scheduled_post(1)  # as the job does, in this process
        await on_caught_up(bot.application)
        assert posts(bot) == []
        (post,) = await bot.store.scheduled_posts("sending")
        assert post.id == 1


async def test_the_job_of_a_scheduled_post_runs_at_its_due_time(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        await bot.say(ADMIN, POST)
        assert bot.application.job_queue is not None
        (job,) = bot.application.job_queue.get_jobs_by_name(job_name(1))
        assert job.next_t == DUE


async def test_the_targets_are_checked_again_when_the_post_goes_out(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A chat admin who is no longer one when the post is due: nothing goes to that chat,
    and the author is told which chat was left out and why."""
    clock = ManualClock(NOW)
    async with scheduled_bot(sandbox, tmp_path, clock) as bot:
        await bot.say(CHANNEL_ADMIN, POST)
        sandbox.world.chats[PLANTNEWS].admins.remove(CHANNEL_ADMIN)
        bot.services.admin_cache.clear()
        clock.set(DUE)
        await run_job(bot, 1)
        assert posts(bot) == []
        report = bot.bot_messages(CHANNEL_ADMIN)[-1]["text"]
        assert "@plantnews: not posted: you are not an administrator of this chat" in report


async def test_a_scheduled_post_lists_the_chats_it_leaves_out(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        (queued,) = await bot.say(
            CHANNEL_ADMIN, f"{POST.replace('@plantnews', '@plantnews @autonews')}"
        )
        assert queued["text"].startswith("Scheduled post #1: moscow-plant-reboot to @plantnews ")
        assert (
            "Left out:\n• @autonews: you are not an administrator of this chat" in queued["text"]
        )


async def test_in_needs_a_unit_and_a_time_in_the_past_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        (refused,) = await bot.say(ADMIN, f"/post {SEED} @plantnews in 3")
        assert refused["text"].startswith("“in 3” is not a time I can read")
        (refused,) = await bot.say(ADMIN, f"/post {SEED} @plantnews at 2026-11-27 11:00")
        assert (
            refused["text"] == "2026-11-27 11:00 UTC is already past: give a time in the future."
        )
        assert await bot.store.scheduled_posts("pending") == []


async def test_an_admin_types_and_reads_times_in_their_own_time_zone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Issue 15: "/post ID at 2026-12-01 09:00" is in the admin's time zone (/timezone),
    the bot's ([bot] timezone, UTC here) by default."""
    async with scheduled_bot(sandbox, tmp_path, ManualClock(NOW)) as bot:
        (told,) = await bot.say(ADMIN, "/timezone Mars/Olympus")
        assert "Unknown time zone “Mars/Olympus”" in told["text"]
        (told,) = await bot.say(ADMIN, "/timezone Europe/Moscow")
        assert "Europe/Moscow" in told["text"]

        (queued,) = await bot.say(ADMIN, POST)

        assert "at 2026-12-01 09:00 MSK" in queued["text"]
        (post,) = await bot.store.scheduled_posts(QUEUED)
        assert post.due_at == int(datetime(2026, 12, 1, 6, 0, tzinfo=UTC).timestamp())
        (listing,) = await bot.say(ADMIN, "/queue")
        assert "2026-12-01 09:00 MSK" in listing["text"]
        await bot.say(ADMIN, "/timezone default")
        (listing,) = await bot.say(ADMIN, "/queue")
        assert "2026-12-01 06:00 UTC" in listing["text"]
