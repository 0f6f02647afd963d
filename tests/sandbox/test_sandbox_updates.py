"""getUpdates semantics: offsets, limits, long polling, allowed_updates, conflicts, kinds."""

from __future__ import annotations

import asyncio

import pytest
import telegram

from bot.sandbox import World
from tests.sandbox.support import Cast, RawCall


async def test_updates_are_kept_until_confirmed_by_offset(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    for text in ("one", "two", "three"):
        world.send(cast.reader_ru, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates()
    assert [u.update_id for u in again][:2] == [u.update_id for u in first]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert world.pending() == 0


async def test_limit_is_clamped_like_telegram(raw_call: RawCall, world: World, cast: Cast) -> None:
    for index in range(120):
        world.send(cast.reader_ru, f"m{index}")
    _, body = await raw_call("getUpdates", limit=0)
    assert len(body["result"]) == 1
    _, body = await raw_call("getUpdates", limit=1000)
    assert len(body["result"]) == 100
    _, body = await raw_call("getUpdates", offset=-5)
    assert [u["message"]["text"] for u in body["result"]] == [f"m{i}" for i in range(115, 120)]


def answered_at(world: World, method: str) -> float:
    """The sandbox time at which the latest ``method`` call was answered."""
    return float(world.calls(method)[-1]["time"])


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    """An update that arrives during a long poll ends it, long before its timeout."""
    timeout = 30

    async def later() -> None:
        await asyncio.sleep(0.2)
        world.send(cast.reader_ru, "hello")

    await bot.get_me()  # answered just before the long poll starts
    task = asyncio.create_task(later())
    updates = await bot.get_updates(timeout=timeout)
    await task
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert answered_at(world, "getUpdates") - answered_at(world, "getMe") < timeout


async def test_long_poll_waits_out_its_timeout(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await bot.get_me()  # answered just before the long poll starts
    assert await bot.get_updates(timeout=1) == ()
    assert answered_at(world, "getUpdates") - answered_at(world, "getMe") >= 1


async def test_a_newer_get_updates_terminates_the_older(raw_call: RawCall, cast: Cast) -> None:
    older = asyncio.create_task(raw_call("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    newer = asyncio.create_task(raw_call("getUpdates", timeout=1))
    status, body = await older
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )
    assert await newer == (200, {"ok": True, "result": []})


async def test_allowed_updates_are_sticky_and_filter_new_updates(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    world.send(cast.reader_ru, "ignored")
    assert world.pending() == 0
    await bot.get_updates()  # no allowed_updates: the last list still applies
    world.send(cast.reader_ru, "still ignored")
    assert world.pending() == 0
    await bot.get_updates(allowed_updates=[])  # empty list: back to the default
    world.send(cast.reader_ru, "seen")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["seen"]


async def test_user_commands_and_deep_links(bot: telegram.Bot, world: World, cast: Cast) -> None:
    world.send(cast.reader_ru, "/start poll-42")
    world.send(cast.reader_ru, "/results@pollbot_sandbox_bot")
    first, second = await bot.get_updates()
    assert first.message is not None and second.message is not None
    assert first.message.parse_entities(["bot_command"]).popitem()[1] == "/start"
    assert first.message.text == "/start poll-42"
    assert second.message.entities[0].length == len("/results@pollbot_sandbox_bot")


async def test_channel_posts_arrive_as_channel_post(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.send(cast.admin, "news from the plant", chat_id=cast.channel)
    [update] = await bot.get_updates()
    assert update.message is None and update.channel_post is not None
    assert update.channel_post.sender_chat is not None
    assert update.channel_post.sender_chat.id == cast.channel


async def test_private_chat_opens_when_the_user_writes(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    with pytest.raises(telegram.error.Forbidden):
        await bot.send_message(cast.reader, "hi")
    world.send(cast.reader, "hello bot")
    assert (await bot.send_message(cast.reader, "hi")).chat.id == cast.reader


async def test_button_press_is_a_callback_query(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    markup = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("No time to read? Get a summary", callback_data="sum:7")]]
    )
    post = await bot.send_message(cast.channel, "Article", reply_markup=markup)
    world.press(cast.reader_ru, cast.channel, post.message_id, "sum:7")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "sum:7" and query.from_user.id == cast.reader_ru
    assert isinstance(query.message, telegram.Message)
    assert query.message.message_id == post.message_id


async def test_bot_added_and_removed_are_my_chat_member_updates(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.add_chat(-1005555555555, "channel", title="New", bot_status="left")
    world.bot_added(-1005555555555, cast.admin, can_post_messages=True)
    world.bot_removed(-1005555555555, cast.admin, status="kicked")
    added, removed = await bot.get_updates()
    assert added.my_chat_member is not None and removed.my_chat_member is not None
    assert added.my_chat_member.old_chat_member.status == "left"
    new = added.my_chat_member.new_chat_member
    assert isinstance(new, telegram.ChatMemberAdministrator) and new.can_post_messages
    assert removed.my_chat_member.new_chat_member.status == "kicked"
    assert added.my_chat_member.from_user.id == cast.admin


async def test_blocked_bot_is_unblocked_when_the_user_writes_again(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.bot_removed(cast.admin, cast.admin, status="kicked")
    world.send(cast.admin, "/start")
    kinds = [
        u.my_chat_member.new_chat_member.status if u.my_chat_member else "message"
        for u in await bot.get_updates()
    ]
    assert kinds == ["kicked", "member", "message"]
    assert (await bot.send_message(cast.admin, "welcome back")).text == "welcome back"


async def test_raw_updates_reach_the_bot_verbatim(raw_call: RawCall, world: World) -> None:
    world.raw({"poll": {"id": "1", "question": "old format"}})
    world.raw({"update_id": 500, "message_reaction": {"weird": True}})
    _, body = await raw_call("getUpdates")
    assert body["result"] == [
        {"update_id": 1, "poll": {"id": "1", "question": "old format"}},
        {"update_id": 500, "message_reaction": {"weird": True}},
    ]
    assert world.updates.next_id == 501
