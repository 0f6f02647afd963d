"""The durable pump: bad updates are quarantined, good ones kept, replays change nothing."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.pump import UpdatePump
from tests.cast import GROUP, READER
from tests.harness import BotHarness


@pytest.fixture(params=[True, False], ids=["fast-path", "ptb-path"])
def bot(bot: BotHarness, request: pytest.FixtureRequest) -> BotHarness:
    """Every test here runs twice: votes by the fast path (bot/fastpath.py), and by PTB."""
    bot.pump.fast_path = request.param
    return bot


async def group_poll(bot: BotHarness) -> str:
    message = await bot.application.bot.send_poll(
        GROUP, "Which lineup?", ["EVs with KAMAZ", "Partner brand", "Both"], is_anonymous=False
    )
    assert message.poll is not None
    return message.poll.id


async def stored_answers(bot: BotHarness, poll_id: str) -> dict[str, tuple[int, ...]]:
    return {a.voter: a.positions async for a in bot.store.answers(poll_id)}


def sandbox_votes(bot: BotHarness, poll_id: str) -> dict[str, tuple[int, ...]]:
    votes = bot.world.poll(poll_id)["sandbox"]["votes"]
    return {voter: tuple(ids) for voter, ids in votes.items() if ids}


async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler that fails (stands for any bug in a feature)."""
    raise RuntimeError("handler exploded")


async def test_bad_updates_go_to_dead_letters_and_the_pump_keeps_going(bot: BotHarness) -> None:
    bot.application.add_handler(CommandHandler("boom", boom))
    poll_id = await group_poll(bot)
    bot.world.vote(5001, poll_id, [0])
    # PTB 22.8 cannot parse a PollAnswer without option_persistent_ids (Bot API 10.0).
    bot.world.raw(
        {
            "poll_answer": {
                "poll_id": poll_id,
                "option_ids": [1],
                "user": {"id": 5002, "is_bot": False, "first_name": "X"},
            }
        }
    )
    bot.world.send(READER, "/boom")
    bot.world.raw({"poll": {"id": "no-such-fields"}})
    bot.world.vote(5003, poll_id, [2])
    await bot.drain()

    assert await stored_answers(bot, poll_id) == {"5001": (0,), "5003": (2,)}
    letters = await bot.store.dead_letters()
    assert len(letters) == 3
    reasons = sorted(letter.error.splitlines()[0] for letter in letters)
    assert sum(r.startswith("cannot parse") for r in reasons) == 2
    assert any("handler failed: RuntimeError: handler exploded" in r for r in reasons)
    assert all(letter.update_id is not None and letter.raw.startswith("{") for letter in letters)
    assert bot.world.pending() == 0

    bot.world.vote(5004, poll_id, [1])
    await bot.drain()
    assert (await stored_answers(bot, poll_id))["5004"] == (1,)


async def test_failed_handler_writes_are_rolled_back(bot: BotHarness) -> None:
    async def half_then_fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await bot.store.record_answer("p-half", "1", ["0"], [0])
        raise RuntimeError("after a write")

    bot.application.add_handler(CommandHandler("half", half_then_fail))
    bot.world.send(READER, "/half")
    await bot.drain()
    assert await bot.store.answer_count("p-half") == 0
    assert len(await bot.store.dead_letters()) == 1


async def test_replaying_a_batch_changes_nothing(bot: BotHarness) -> None:
    poll_id = await group_poll(bot)
    for user, choice in [(1, [0]), (2, [1]), (1, [2]), (3, [0]), (2, [])]:
        bot.world.vote(user, poll_id, choice)
    raw = await bot.pump.bot.get_updates_raw(None, 0)
    await bot.pump.process_batch(raw)
    first = await stored_answers(bot, poll_id)
    await bot.pump.process_batch(raw)
    assert await stored_answers(bot, poll_id) == first == sandbox_votes(bot, poll_id)
    poll = await bot.store.poll(poll_id)
    assert poll is not None
    assert poll.total_voters == bot.world.poll(poll_id)["total_voter_count"] == 2


async def test_run_loop_survives_server_errors_and_stops_cleanly(bot: BotHarness) -> None:
    poll_id = await group_poll(bot)
    bot.world.fault("500", method="getUpdates", times=2)
    pump = UpdatePump(bot.application, bot.store, timeout=1)
    stop = asyncio.Event()
    runner = asyncio.create_task(pump.run(stop))
    for user in range(1, 51):
        bot.world.vote(user, poll_id, [user % 3])
    for _ in range(100):
        if bot.world.pending() == 0 and pump.stats.updates >= 50:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)
    assert await stored_answers(bot, poll_id) == sandbox_votes(bot, poll_id)
    assert len(await stored_answers(bot, poll_id)) == 50
    assert await bot.store.offset() is not None
