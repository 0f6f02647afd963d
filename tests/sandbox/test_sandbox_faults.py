"""Injected faults and flood limits, as PTB sees them."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.sandbox import ControlError, Sandbox, World
from tests.sandbox.support import Cast, RawCall


async def test_429_fault_then_success(bot: telegram.Bot, world: World, cast: Cast) -> None:
    world.fault("429", method="sendMessage", chat_id=cast.channel, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(cast.channel, "post")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert (await bot.send_message(cast.channel, "post")).text == "post"
    assert [c["ok"] for c in world.calls("sendMessage")] == [False, True]
    assert world.calls("sendMessage")[0]["description"] == "Too Many Requests: retry after 3"


async def test_faults_match_method_and_chat_and_are_consumed(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.fault("500", method="sendMessage", chat_id=cast.supergroup, times=2)
    await bot.send_message(cast.channel, "other chat is fine")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(cast.supergroup, "x")
    await bot.send_message(cast.supergroup, "now fine")
    assert world.faults.rules == []


async def test_403_fault_and_username_targets(bot: telegram.Bot, world: World, cast: Cast) -> None:
    world.fault("403", chat_id="@plantnews")
    with pytest.raises(Forbidden, match="bot was kicked from the channel chat"):
        await bot.send_message("@plantnews", "x")


async def test_slow_fault_delays_but_answers(bot: telegram.Bot, world: World, cast: Cast) -> None:
    await bot.get_chat(cast.channel)  # answered at once
    world.fault("slow", method="getChat", delay=0.5)
    chat = await bot.get_chat(cast.channel)
    fast, slow = (call["time"] for call in world.calls("getChat"))
    assert chat.title == "Plant News" and slow - fast >= 0.5


async def test_timeout_fault_still_performs_the_call(
    sandbox: Sandbox, world: World, cast: Cast
) -> None:
    world.fault("timeout", method="sendMessage", delay=1.0)
    async with telegram.Bot(sandbox.token, base_url=sandbox.api_url) as bot:
        with pytest.raises(telegram.error.TimedOut):
            await bot.send_message(cast.channel, "maybe sent", read_timeout=0.3)
    for _ in range(40):  # the held request completes after the client gave up
        if world.calls("sendMessage"):
            break
        await asyncio.sleep(0.05)
    assert [m["text"] for m in world.chat(cast.channel)["messages"]] == ["maybe sent"]


async def test_unknown_fault_kind_is_refused(world: World) -> None:
    with pytest.raises(ControlError, match="fault kind"):
        world.fault("418")


async def test_per_chat_flood_limit(raw_call: RawCall, world: World, cast: Cast) -> None:
    world.flood_limits(per_chat_per_sec=1)
    assert (await raw_call("sendMessage", chat_id=cast.admin, text="1"))[0] == 200
    status, body = await raw_call("sendMessage", chat_id=cast.admin, text="2")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    assert body["description"] == "Too Many Requests: retry after 1"
    assert (await raw_call("sendMessage", chat_id=cast.channel, text="other chat"))[0] == 200
    world.advance(1.01)
    assert (await raw_call("sendMessage", chat_id=cast.admin, text="2"))[0] == 200


async def test_group_per_minute_limit_reports_seconds_to_wait(
    raw_call: RawCall, world: World, cast: Cast
) -> None:
    world.flood_limits(per_group_per_min=20)
    for index in range(20):
        assert (await raw_call("sendMessage", chat_id=cast.channel, text=f"{index}"))[0] == 200
        world.advance(1)
    status, body = await raw_call("sendMessage", chat_id=cast.channel, text="21st")
    assert status == 429 and 39 <= body["parameters"]["retry_after"] <= 41
    assert (await raw_call("getChat", chat_id=cast.channel))[0] == 200  # reads are not limited


async def test_global_limit_and_ptb_retry_after(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.flood_limits(global_per_sec=2)
    await bot.send_message(cast.channel, "a")
    await bot.send_message(cast.supergroup, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(cast.admin, "c")
    world.flood_limits()  # off again
    await bot.send_message(cast.admin, "c")


async def test_failed_calls_do_not_use_flood_slots(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.flood_limits(per_chat_per_sec=1)
    with pytest.raises(BadRequest):
        await bot.send_message(cast.channel, "<b>", parse_mode="HTML")
    await bot.send_message(cast.channel, "ok")
