"""/schedule, /schedules, /unschedule and the default schedule from the config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.digests.schedules import job_name, next_due, trigger
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.bot.test_digests import (
    HOUR,
    bot_posts,
    digest_bot,
    post_poll,
    run_job,
    text_of,
)
from tests.cast import ADMIN, ADMIN_RU, PLANTNEWS
from tests.harness import BotHarness

NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def jobs(bot: BotHarness) -> list[str]:
    assert bot.application.job_queue is not None
    return sorted(job.name or "" for job in bot.application.job_queue.jobs())


async def test_schedule_stores_registers_and_lists_with_the_next_run_in_its_zone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        (added,) = await bot.say(ADMIN, '/schedule "0 20 * * *" @plantnews Europe/Moscow')
        assert "#1 0 20 * * * · Europe/Moscow → @plantnews" in text_of(added)
        assert "next: 2025-06-01 20:00 MSK" in text_of(added)
        (mine,) = await bot.say(ADMIN, "/schedule 30 7 * * 1-5 America/New_York")
        assert "→ Alice" in text_of(mine)

        (listing,) = await bot.say(ADMIN, "/schedules")
        text = text_of(listing)
        assert "#1 0 20 * * * · Europe/Moscow → @plantnews\n    next: 2025-06-01 20:00 MSK" in text
        # 2025-06-01 is a Sunday: the next weekday 07:30 in New York is Monday's.
        assert "#2 30 7 * * 1-5 · America/New_York → Alice\n    next: 2025-06-02 07:30 EDT" in (
            text
        )
        first, second = await bot.store.schedules()
        assert (first.cron, first.timezone, first.target_chat, first.created_by) == (
            "0 20 * * *", "Europe/Moscow", PLANTNEWS, ADMIN,
        )  # fmt: skip
        assert (second.target_chat, second.language) == (ADMIN, "en")
        assert jobs(bot)[:2] == [job_name(1), job_name(2)]
        audit = await bot.store.audit_entries()
        assert [(e.action, e.result) for e in audit[:2]] == [("schedule", "ok")] * 2


async def test_a_replayed_schedule_command_adds_one_schedule(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A crash after /schedule was handled replays its update: still one schedule, one job,
    one reply and one audit entry."""
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        bot.world.send(ADMIN, '/schedule "0 20 * * *" @plantnews Europe/Moscow')
        raw = await bot.pump.bot.get_updates_raw(await bot.store.offset(), 0)
        await bot.pump.process_batch(raw)
        await bot.pump.process_batch(raw)  # the same batch again, as after a crash

        (schedule,) = await bot.store.schedules()
        assert (schedule.cron, schedule.target_chat) == ("0 20 * * *", PLANTNEWS)
        assert [name for name in jobs(bot) if name.startswith("digest:")] == [
            job_name(schedule.id)
        ]
        replies = [m for m in bot.messages(ADMIN) if m.get("from", {}).get("is_bot")]
        assert len(replies) == 1 and "Digests scheduled" in text_of(replies[0])
        audit = [e for e in await bot.store.audit_entries() if e.action == "schedule"]
        assert len(audit) == 1


@pytest.mark.parametrize(
    ("command", "advice"),
    [
        ('/schedule "0 25 * * *" @plantnews', "The hour field “25” of “0 25 * * *”"),
        ('/schedule "0 20 * *" @plantnews', "has 4 fields, but a cron expression has 5"),
        ('/schedule "0 20 * * 1" sometimes', "Unknown time zone “sometimes”"),
        ('/schedule "0 20 * * *" Mars/Olympus_Mons', "use a tz database name"),
        ('/schedule "0 20 * * *" @nosuchchannel', "Cannot send digests to @nosuchchannel"),
        ('/schedule "0 20 * * *" @plantnews @autonews', "Give one @channel per schedule"),
        ('/schedule "0 20 31 2 *"', "never comes"),
        ('/schedule "0 20 1 * 1"', "keep one of them as *"),
        ('/schedule "0 20 * * *', "A quote is not closed"),
        ("/schedule", "Give a cron expression in quotes"),
    ],
)
async def test_a_bad_schedule_is_refused_with_what_to_fix_and_nothing_is_stored(
    sandbox: Sandbox, tmp_path: Path, command: str, advice: str
) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        (answer,) = await bot.say(ADMIN, command)
        assert advice in text_of(answer)
        assert await bot.store.schedules() == []
        assert jobs(bot) == sorted(name for name in jobs(bot) if not name.startswith("digest:"))
        (entry, *_) = await bot.store.audit_entries()
        assert (entry.action, entry.result) == ("schedule", "refused")


async def test_refusals_are_translated(sandbox: Sandbox, tmp_path: Path) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        (answer,) = await bot.say(ADMIN_RU, '/schedule "0 25 * * *"')
        assert "Поле «час»" in text_of(answer)
        (answer,) = await bot.say(ADMIN_RU, '/schedule "0 20 * * *" Mars/Base')
        assert "Неизвестный часовой пояс «Mars/Base»" in text_of(answer)


async def test_unschedule_removes_the_schedule_and_its_job(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        await bot.say(ADMIN, '/schedule "0 20 * * *" @plantnews')
        (gone,) = await bot.say(ADMIN, "/unschedule 1")
        assert text_of(gone) == "Schedule #1 removed: no more digests 0 20 * * * → @plantnews."
        assert await bot.store.schedules() == []
        assert job_name(1) not in jobs(bot)
        (again,) = await bot.say(ADMIN, "/unschedule #1")
        assert text_of(again) == "There is no schedule #1: see /schedules."
        (bad,) = await bot.say(ADMIN, "/unschedule soon")
        assert "e.g. /unschedule 3" in text_of(bad)
        (empty,) = await bot.say(ADMIN, "/schedules")
        assert "No digest schedules yet" in text_of(empty)


async def test_the_default_schedule_follows_the_config(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(NOON)
    config = 'schedule = "0 9 * * *"\ntimezone = "Europe/Berlin"\n'
    async with digest_bot(sandbox, tmp_path, clock, digest=config) as bot:
        defaults = await bot.store.schedules()
        assert [(s.target_chat, s.cron, s.is_default) for s in defaults] == [
            (ADMIN, "0 9 * * *", True), (ADMIN_RU, "0 9 * * *", True),
        ]  # fmt: skip
        (listing,) = await bot.say(ADMIN, "/schedules")
        assert f"0 9 * * * · Europe/Berlin → private chat {ADMIN} · from the config" in (
            text_of(listing)
        )
        (refused,) = await bot.say(ADMIN, "/unschedule 1")
        assert "comes from the config" in text_of(refused)

    to_channel = 'schedule = "0 18 * * 5"\ntarget = "@plantnews"\n'
    async with digest_bot(sandbox, tmp_path, clock, digest=to_channel) as bot:
        (default,) = await bot.store.schedules()
        assert (default.cron, default.timezone, default.target_chat) == (
            "0 18 * * 5", "UTC", PLANTNEWS,
        )  # fmt: skip
        assert default.is_default and default.target_name == "@plantnews"
        assert job_name(default.id) in jobs(bot)

    async with digest_bot(sandbox, tmp_path, clock, digest="charts = true\n") as bot:
        assert await bot.store.schedules() == []


async def test_the_default_digest_reaches_each_admin_in_their_language(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock, digest='schedule = "0 * * * *"\n') as bot:
        await post_poll(bot)
        for admin in (ADMIN, ADMIN_RU):  # after start: the language is looked up when sent
            await bot.say(admin, "/help")
        clock.set(HOUR + timedelta(seconds=5))
        for schedule in await bot.store.schedules():
            await run_job(bot, schedule.id)
        english = [text_of(m) for m in bot_posts(bot, ADMIN)]
        russian = [text_of(m) for m in bot_posts(bot, ADMIN_RU)]
        assert any("Poll digest" in text for text in english)
        assert any("Дайджест опросов" in text for text in russian)
        assert not any("Дайджест" in text for text in english)


async def test_a_default_schedule_crontab_cannot_take_is_refused_at_start(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"digest\.schedule: The hour field"):
        async with digest_bot(
            sandbox, tmp_path, ManualClock(HOUR), digest='schedule = "0 24 * * *"\n'
        ):
            pass


async def test_the_jobqueue_and_the_listing_agree_on_the_next_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with digest_bot(sandbox, tmp_path, ManualClock(now), paused=False) as bot:
        await bot.say(ADMIN, '/schedule "30 2 * * *" @plantnews America/New_York')
        assert bot.application.job_queue is not None
        (job,) = [j for j in bot.application.job_queue.jobs() if j.name == job_name(1)]
        expected = next_due(trigger("30 2 * * *", "America/New_York"), now)
        assert job.next_t is not None and expected is not None
        assert job.next_t.astimezone(UTC) == expected


async def test_a_fixed_time_runs_once_on_the_night_clocks_go_back(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2025, 11, 1, 12, tzinfo=UTC))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        await bot.say(ADMIN, '/schedule "30 1 * * *" @plantnews America/New_York')
        await post_poll(bot)
        for hour in (5, 6):  # 01:30 EDT, then 01:30 again as EST: plain cron would fire twice
            clock.set(datetime(2025, 11, 2, hour, 30, 1, tzinfo=UTC))
            await run_job(bot, 1)
        (posted,) = bot_posts(bot, PLANTNEWS)
        assert "2025-11-02 01:30 EDT" in text_of(posted)


async def test_a_time_skipped_by_spring_forward_is_caught_up_after_the_jump(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = ManualClock(datetime(2025, 3, 29, 12, tzinfo=UTC))
    async with digest_bot(sandbox, tmp_path, before) as bot:
        await bot.say(ADMIN, '/schedule "30 2 * * *" @plantnews Europe/Berlin')
        await post_poll(bot)
    # Berlin jumps from 02:00 to 03:00 on 2025-03-30; the bot is back at 04:00 CEST.
    after = ManualClock(datetime(2025, 3, 30, 2, tzinfo=UTC))
    async with digest_bot(sandbox, tmp_path, after) as bot:
        (posted,) = bot_posts(bot, PLANTNEWS)
        assert "2025-03-30 03:30 CEST" in text_of(posted)
        (digest,) = await bot.store.digests()
        assert digest.due_at == int(datetime(2025, 3, 30, 1, 30, tzinfo=UTC).timestamp())


async def test_an_unusable_default_target_is_reported_to_the_admins(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = 'schedule = "0 9 * * *"\ntarget = "@nosuchchannel"\n'
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON)) as bot:
        await bot.say(ADMIN, "/start")  # the admin's private chat exists
    async with digest_bot(sandbox, tmp_path, ManualClock(NOON), digest=config) as bot:
        assert await bot.store.schedules() == []
        notice = text_of(bot.messages(ADMIN)[-1])
        assert "The digest target @nosuchchannel in the config" in notice
        assert "chat not found" in notice


async def test_a_chats_digest_follows_the_language_it_has_when_it_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Issue 12, finding 3: /language after /schedule turns the chat's digests Russian."""
    clock = ManualClock(HOUR - timedelta(minutes=10))
    async with digest_bot(sandbox, tmp_path, clock) as bot:
        await post_poll(bot)
        await bot.say(ADMIN, '/schedule "0 * * * *" @plantnews UTC')
        await bot.say(ADMIN, "/language @plantnews ru")
        clock.set(HOUR + timedelta(seconds=5))
        (schedule,) = await bot.store.schedules()
        await run_job(bot, schedule.id)
        assert any("Дайджест опросов" in text_of(m) for m in bot_posts(bot, PLANTNEWS))
