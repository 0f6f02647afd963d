"""The Bot API surface: tokens, methods, parameter decoding, call log, files, commands."""

from __future__ import annotations

import hashlib
import io

import aiohttp
import pytest
import telegram
from telegram.error import BadRequest, InvalidToken

from bot.sandbox import Sandbox, World
from tests.sandbox.support import PNG, Cast, RawCall


async def test_get_me_names_the_sandbox_bot(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "pollbot_sandbox_bot", True)


async def test_wrong_token_is_unauthorized(raw_call: RawCall) -> None:
    status, body = await raw_call("getMe", token="999:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_unknown_method_is_not_found(raw_call: RawCall) -> None:
    status, body = await raw_call("sendTelepathy")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_real_but_unemulated_method_says_so(raw_call: RawCall) -> None:
    status, body = await raw_call("sendDice", chat_id=1)
    assert status == 501
    assert "does not emulate sendDice" in body["description"]


async def test_method_names_are_case_insensitive_and_get_works(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{sandbox.api_url}{sandbox.token}/GETME"
        async with session.get(url) as response:
            body = await response.json()
    assert body["ok"] and body["result"]["username"] == "pollbot_sandbox_bot"


async def test_ptb_reports_a_wrong_token(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("1:BAD", base_url=sandbox.api_url):
            pass


async def test_numeric_looking_text_stays_a_string(bot: telegram.Bot, cast: Cast) -> None:
    message = await bot.send_message(cast.admin, "123")
    assert message.text == "123"
    assert message.chat.id == cast.admin


async def test_json_bodies_are_accepted(sandbox: Sandbox, cast: Cast) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{sandbox.api_url}{sandbox.token}/sendMessage"
        payload = {"chat_id": cast.admin, "text": "007", "disable_notification": True}
        async with session.post(url, json=payload) as response:
            body = await response.json()
    assert body["result"]["text"] == "007"


async def test_missing_required_parameter(raw_call: RawCall, cast: Cast) -> None:
    status, body = await raw_call("sendPoll", chat_id=cast.channel, question="Q?")
    assert (status, body["description"]) == (400, "Bad Request: options is empty")
    status, body = await raw_call("sendMessage", chat_id=cast.admin)
    assert body["description"] == "Bad Request: message text is empty"


async def test_call_log_records_params_results_and_errors(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await bot.send_message(cast.admin, "<i>hello</i>", parse_mode="HTML")
    with pytest.raises(BadRequest):
        await bot.send_message(cast.admin, "<i>hello", parse_mode="HTML")
    calls = world.calls("sendMessage")
    assert not calls[1]["ok"] and calls[1]["error_code"] == 400
    assert calls[1]["description"].startswith("Bad Request: can't parse entities")
    assert calls[0]["ok"] and calls[0]["params"]["parse_mode"] == "HTML"
    assert calls[0]["result"]["text"] == "hello"
    assert world.calls()[0]["method"] == "getMe"
    assert isinstance(calls[0]["time"], float)


async def test_html_source_is_kept_outside_the_bot_api(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await bot.send_message(cast.channel, "<b>Plant</b> &amp; cars", parse_mode="HTML")
    [post] = world.chat(cast.channel)["messages"]
    assert post["text"] == "Plant & cars"
    assert post["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert post["sandbox"]["html"] == "<b>Plant</b> &amp; cars"
    assert "sender_chat" in post and "from" not in post
    assert "html" not in world.calls("sendMessage")[-1]["result"]


async def test_photo_and_document_bytes_are_retrievable(
    bot: telegram.Bot, sandbox: Sandbox, cast: Cast
) -> None:
    photo = await bot.send_photo(cast.channel, PNG, caption="<i>chart</i>", parse_mode="HTML")
    assert photo.caption == "chart"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    blob = sandbox.world.file(photo.photo[-1].file_id)
    assert blob.data == PNG and blob.sha256 == hashlib.sha256(PNG).hexdigest()
    document = await bot.send_document(cast.admin, io.BytesIO(b"a,b\n1,2\n"), filename="votes.csv")
    assert document.document is not None and document.document.file_name == "votes.csv"
    info = await sandbox.client.file(document.document.file_id)
    assert info["data"] == b"a,b\n1,2\n" and info["size"] == 8
    again = await bot.send_photo(cast.admin, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id


async def test_commands_per_scope_and_language(bot: telegram.Bot, world: World) -> None:
    commands = [telegram.BotCommand("start", "Start"), telegram.BotCommand("results", "Results")]
    await bot.set_my_commands(commands)
    await bot.set_my_commands(
        [telegram.BotCommand("start", "Старт")],
        scope=telegram.BotCommandScopeAllPrivateChats(),
        language_code="ru",
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "results"]
    ru = await bot.get_my_commands(telegram.BotCommandScopeAllPrivateChats(), "ru")
    assert [c.description for c in ru] == ["Старт"]
    assert set(world.my_commands()) == {"default|", "all_private_chats|ru"}
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_chat_member_and_administrators(bot: telegram.Bot, world: World, cast: Cast) -> None:
    world.add_user(777, "Other bot", is_bot=True)
    world.add_chat(
        cast.supergroup, "supergroup", title="Plant fans", admins=[cast.admin, cast.reader_ru, 777]
    )
    owner = await bot.get_chat_member(cast.supergroup, cast.admin)
    assert owner.status == "creator"
    assert (await bot.get_chat_member(cast.supergroup, cast.reader_ru)).status == "administrator"
    assert (await bot.get_chat_member(cast.supergroup, cast.reader)).status == "member"
    admins = await bot.get_chat_administrators(cast.supergroup)
    assert [m.user.id for m in admins] == [cast.admin, cast.reader_ru, 123456]
    with_bots = await bot.get_chat_administrators(cast.supergroup, return_bots=True)
    assert [m.user.id for m in with_bots] == [cast.admin, cast.reader_ru, 777, 123456]
    me = await bot.get_chat_member("@plantnews", 123456)
    assert isinstance(me, telegram.ChatMemberAdministrator) and me.can_post_messages


async def test_edit_and_delete(bot: telegram.Bot, world: World, cast: Cast) -> None:
    button = telegram.InlineKeyboardButton("Summary", callback_data="sum:1")
    markup = telegram.InlineKeyboardMarkup([[button]])
    sent = await bot.send_message(cast.channel, "v1", reply_markup=markup)
    edited = await bot.edit_message_text("v2", cast.channel, sent.message_id, reply_markup=markup)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "v2" and edited.edit_date is not None
    cleared = await bot.edit_message_reply_markup(cast.channel, sent.message_id)
    assert isinstance(cleared, telegram.Message) and cleared.reply_markup is None
    assert await bot.delete_message(cast.channel, sent.message_id)
    assert world.chat(cast.channel)["messages"] == []


async def test_reset_forgets_everything(sandbox: Sandbox, cast: Cast) -> None:
    await sandbox.client.reset()
    state = await sandbox.client.state()
    assert state["users"] == [] and state["chats"] == [] and state["pending"] == 0
