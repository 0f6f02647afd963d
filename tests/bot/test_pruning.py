"""Pruning by age ([storage] keep_days): at start and daily, never inside Telegram's 24 h."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.cast import ADMIN
from tests.harness import BotHarness, bot_harness

HOUR = 3600
DAY = 24 * HOUR
KEEP_ONE_DAY = 'path = "pollbot.sqlite3"\nkeep_days = 1\n'


async def run_daily_prune(bot: BotHarness) -> None:
    """Run the pruning job now, as the JobQueue does once a day."""
    assert bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name("storage.prune")
    await job.run(bot.application)


async def test_the_daily_prune_drops_old_rows_and_the_ledger_still_stops_a_replay(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, storage=KEEP_ONE_DAY) as bot:
        old = bot.queued_update(ADMIN, "/polls")
        await bot.pump.process_batch([old])
        await bot.store.audit(ADMIN, "old")
        await bot.store.add_dead_letter(1, {"update_id": 1}, "old")
        clock.advance(2 * DAY)
        young = bot.queued_update(ADMIN, "/polls")
        await bot.pump.process_batch([young])
        await bot.store.audit(ADMIN, "young")
        await bot.store.add_dead_letter(2, {"update_id": 2}, "young")
        clock.advance(23 * HOUR)  # Telegram may still deliver the young update again

        await run_daily_prune(bot)

        assert [e.action for e in await bot.store.audit_entries()] == ["young"]
        assert [d.error for d in await bot.store.dead_letters()] == ["young"]
        before = len(bot.bot_messages(ADMIN))
        await bot.pump.process_batch([young])
        assert (
            len(bot.bot_messages(ADMIN)) == before
        )  # its reply is still in the ledger: not sent twice
        await bot.pump.process_batch([old])
        assert len(bot.bot_messages(ADMIN)) == before + 1  # its ledger entry is gone


async def test_old_rows_are_pruned_at_start(sandbox: Sandbox, tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock) as bot:
        await bot.store.audit(ADMIN, "old")
        clock.advance(20 * DAY)
        await bot.store.audit(ADMIN, "young")
    clock.advance(15 * DAY)  # 35 and 15 days old: the default keeps 30
    async with bot_harness(sandbox, tmp_path, clock=clock) as bot:
        assert [e.action for e in await bot.store.audit_entries()] == ["young"]
