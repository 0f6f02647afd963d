"""The caught-up hook: run once the updates that waited at Telegram are applied, without
waiting for a long poll (polling), or once getWebhookInfo shows none pending (webhook)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.pump import UpdatePump
from bot.webhook import catch_up_when_drained
from tests.cast import READER
from tests.harness import BotHarness


def fresh_pump(bot: BotHarness, seen: list[int], stop: asyncio.Event | None = None) -> UpdatePump:
    """A pump like ``pollbot run``'s, whose hook notes how many updates it had applied."""
    pump: UpdatePump

    async def hook() -> None:
        seen.append(pump.stats.updates)
        if stop is not None:
            stop.set()

    pump = UpdatePump(bot.application, bot.store, timeout=30, limit=2, on_caught_up=hook)
    return pump


async def test_polling_catches_up_after_the_waiting_updates_without_a_long_poll(
    bot: BotHarness,
) -> None:
    for n in range(3):  # more than one batch of the pump's limit (2)
        bot.world.send(READER, f"/start {n}")
    first_call = len(bot.world.calls("getUpdates"))
    seen: list[int] = []
    stop = asyncio.Event()
    await asyncio.wait_for(fresh_pump(bot, seen, stop).run(stop), timeout=20)
    assert seen == [3]  # once, after all three were applied
    polls = bot.world.calls("getUpdates")[first_call:]
    assert [call["params"]["timeout"] for call in polls] == [0, 0]


async def test_webhook_catches_up_when_nothing_is_pending_or_after_the_wait(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []
    await catch_up_when_drained(fresh_pump(bot, seen), wait=5, every=0.01)
    assert seen == [0]  # nothing pending: at once
    bot.world.send(READER, "/start")  # pending, and nothing will take it
    late: list[int] = []
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        await catch_up_when_drained(fresh_pump(bot, late), wait=0.05, every=0.01)
    assert late == [0] and "catching up anyway" in caplog.text
