"""Digests across restarts: a missed digest is sent once at start, never twice, never late;
one a crash interrupted is finished (at least once, never lost)."""

from __future__ import annotations

import contextlib
import importlib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.digests import compose as digest_compose
from bot.sandbox import Sandbox
from bot.texts import bar, shares
from storage.clock import ManualClock
from tests.bot.test_digests import (
    HOUR,
    SCHEDULE,
    bot_posts,
    digest_bot,
    post_poll,
    text_of,
    vote,
)
from tests.cast import ADMIN, PLANTNEWS

DUE = int(HOUR.timestamp())


async def set_up(sandbox: Sandbox, tmp_path: Path, command: str = SCHEDULE) -> str:
    """Before HOUR: an admin schedules digests to @plantnews and a poll gets votes; stop.
    Return the id of the poll in @plantnews."""
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR - timedelta(minutes=10))) as bot:
        await bot.say(ADMIN, command)
        _, (plant_poll, _) = await post_poll(bot)
        await vote(bot, plant_poll, 5000, [0, 1, 1])
    return plant_poll


async def test_a_digest_missed_while_down_is_sent_once_at_start(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await set_up(sandbox, tmp_path)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=30))) as bot:
        (caught_up,) = bot_posts(bot, PLANTNEWS)
        assert "City buses" in text_of(caught_up) and "67% (2)" in text_of(caught_up)
        assert HOUR.strftime("%Y-%m-%d %H:%M UTC") in text_of(caught_up)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=40))) as bot:
        assert len(bot_posts(bot, PLANTNEWS)) == 1  # restarting again sends nothing
        (digest,) = await bot.store.digests()
        assert digest.due_at == DUE and digest.sent_at is not None


async def test_the_catch_up_digest_counts_the_votes_cast_while_the_bot_was_down(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The votes waiting at Telegram are applied before the missed digest is composed, so
    it shows the current counts and leader (trucks overtook buses while the bot was down)."""
    plant_poll = await set_up(sandbox, tmp_path)
    for voter in range(8000, 8003):
        sandbox.world.vote(voter, plant_poll, [0])
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=30))) as bot:
        (caught_up,) = bot_posts(bot, PLANTNEWS)
        text = text_of(caught_up)
        trucks, buses, _ = shares([4, 2, 0], 6)
        assert "6 voters" in text
        assert f"Electric trucks\n{bar(4 / 6)} {trucks} (4)" in text
        assert f"City buses\n{bar(2 / 6)} {buses} (2)" in text


async def test_two_missed_due_times_give_one_digest_for_the_latest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await set_up(sandbox, tmp_path)
    later = ManualClock(HOUR + timedelta(hours=1, minutes=30))
    async with digest_bot(sandbox, tmp_path, later) as bot:
        (caught_up,) = bot_posts(bot, PLANTNEWS)
        (digest,) = await bot.store.digests()
        assert digest.due_at == DUE + 3600
        assert (HOUR + timedelta(hours=1)).strftime("%H:%M UTC") in text_of(caught_up)


class Crash(BaseException):
    """The process dies (after the claim was committed, before anything was sent)."""


async def crash(*args: object, **kwargs: object) -> None:
    """Put in place of a step: the process dies there."""
    raise Crash


async def test_a_digest_claimed_before_a_crash_is_finished_at_the_restart(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a digest claimed, then lost in a crash, is sent at the next start, even
    later than the grace time (it was claimed: it is owed), and then never again."""
    await set_up(sandbox, tmp_path, f'/schedule "0 {HOUR.hour} * * *" @plantnews UTC')

    with monkeypatch.context() as patch:
        patch.setattr(digest_compose, "compose", crash)
        with pytest.raises(Crash):
            async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=5))):
                pass
    three_hours_later = ManualClock(HOUR + timedelta(hours=3))
    async with digest_bot(sandbox, tmp_path, three_hours_later) as bot:
        (finished,) = bot_posts(bot, PLANTNEWS)
        assert HOUR.strftime("%Y-%m-%d %H:%M UTC") in text_of(finished)
        (digest,) = await bot.store.digests()
        assert (digest.due_at, digest.sent_at is not None) == (DUE, True)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(hours=4))) as bot:
        assert len(bot_posts(bot, PLANTNEWS)) == 1  # finished once: not sent again


async def test_an_interrupted_digest_gives_way_to_a_newer_one_of_its_schedule(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hourly digests: the 12:00 one is lost in a crash, the bot is back at 13:10. One
    digest goes out, 13:00's, not both."""
    await set_up(sandbox, tmp_path)

    with monkeypatch.context() as patch:
        patch.setattr(digest_compose, "compose", crash)
        with pytest.raises(Crash):
            async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=5))):
                pass
    later = ManualClock(HOUR + timedelta(hours=1, minutes=10))
    async with digest_bot(sandbox, tmp_path, later) as bot:
        (sent,) = bot_posts(bot, PLANTNEWS)
        assert (HOUR + timedelta(hours=1)).strftime("%H:%M UTC") in text_of(sent)
        assert [d.due_at for d in await bot.store.digests()] == [DUE + 3600]


async def test_a_digest_sent_but_not_marked_is_marked_without_sending_it_again(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the digest's messages went out (and are in the ledger) but
    before the digest is marked sent: the restart marks it, and sends nothing twice."""
    await set_up(sandbox, tmp_path)

    with monkeypatch.context() as patch:
        patch.setattr("storage.digests.DigestsMixin.mark_digest_sent", crash)
        with pytest.raises(Crash):
            async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=5))):
                pass
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=6))) as bot:
        assert len(bot_posts(bot, PLANTNEWS)) == 1
        (digest,) = await bot.store.digests()
        assert digest.sent_at is not None


@pytest.mark.parametrize(("grace", "sent"), [(120, 0), (240, 1), (0, 0)])
async def test_a_digest_later_than_the_grace_time_is_not_sent(
    sandbox: Sandbox, tmp_path: Path, grace: int, sent: int
) -> None:
    daily = f'/schedule "0 {HOUR.hour} * * *" @plantnews UTC'
    await set_up(sandbox, tmp_path, daily)
    late = ManualClock(HOUR + timedelta(hours=3))
    async with digest_bot(sandbox, tmp_path, late, digest=f"grace_minutes = {grace}\n") as bot:
        assert len(bot_posts(bot, PLANTNEWS)) == sent
        assert len(await bot.store.digests()) == sent


async def test_a_schedule_added_after_the_due_time_does_not_catch_up(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=5))) as bot:
        await bot.say(ADMIN, SCHEDULE)
        await post_poll(bot)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=10))) as bot:
        assert bot_posts(bot, PLANTNEWS) == []


async def test_a_schedule_whose_zone_is_gone_does_not_stop_the_bot(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A tz database update can drop a zone stored earlier: that schedule is skipped
    (and logged), the others run, and /schedules still lists it."""
    await set_up(sandbox, tmp_path)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR - timedelta(minutes=5))) as bot:
        await bot.store.add_schedule("0 * * * *", "Mars/Olympus_Mons", ADMIN, at=DUE - 7200)
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=30))) as bot:
        (caught_up,) = bot_posts(bot, PLANTNEWS)  # the good schedule still caught up
        assert "City buses" in text_of(caught_up)
        assert [job.name for job in bot.application.job_queue.jobs()].count("digest:1") == 1
        (listing,) = await bot.say(ADMIN, "/schedules")
        assert "Mars/Olympus_Mons" in text_of(listing)


# Every step of sending a digest, in order; a crash is injected after one of them (a write
# done, or a message that reached Telegram whose answer was lost), then the bot restarts.
STEPS = (
    ("storage.digests.DigestsMixin.claim_digest", False),
    ("storage.digests.DigestsMixin.record_digest_items", False),
    ("storage.outbox.OutboxMixin.open_intent", False),
    ("telegram.Bot.send_photo", True),
    ("telegram.Bot.send_message", True),
    ("storage.store.Store.record_sent", False),
    ("storage.digests.DigestsMixin.mark_digest_sent", False),
)


@pytest.mark.parametrize("crash_at", range(1, 9))
async def test_a_crash_after_any_step_of_a_digest_never_loses_it(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_at: int
) -> None:
    """Issue 13 (the in-process form of "SIGKILL around a digest's minute": the bot's due
    minute is its own clock, which only an in-process bot lets a test move): the digest
    dies after its ``crash_at``-th step; after the restart it has been sent (at least
    once, at most one message repeated), it is marked sent, and it is not sent again."""
    await set_up(sandbox, tmp_path, f'/schedule "0 {HOUR.hour} * * *" @plantnews UTC')
    done = 0

    def crashing(target: str) -> object:
        module, _, name = target.rpartition(".")
        owner = _resolve(module)
        original = getattr(owner, name)

        async def step(*args: object, **kwargs: object) -> object:
            nonlocal done
            result = await original(*args, **kwargs)
            done += 1
            if done == crash_at:
                raise Crash
            return result

        return step

    with monkeypatch.context() as patch:
        for target, _sends in STEPS:
            module, _, name = target.rpartition(".")
            patch.setattr(_resolve(module), name, crashing(target))
        with contextlib.suppress(Crash):
            async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=1))):
                pass
    crashed = done >= crash_at
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=2))) as bot:
        sent = bot_posts(bot, PLANTNEWS)
        assert 1 <= len(sent) <= 1 + crashed  # at least once; one repeat for the crash at most
        assert any(HOUR.strftime("%H:%M UTC") in text_of(m) for m in sent)
        (digest,) = await bot.store.digests()
        assert digest.sent_at is not None
    async with digest_bot(sandbox, tmp_path, ManualClock(HOUR + timedelta(minutes=3))) as bot:
        assert len(bot_posts(bot, PLANTNEWS)) == len(sent)


def _resolve(dotted: str) -> object:
    """The class a dotted name ends with (``storage.digests.DigestsMixin``)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)
