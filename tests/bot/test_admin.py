"""Admins end to end: menus, /help in two languages, chats joining and leaving, approvals,
chat languages, the audit log, failed commands and the token kept out of the log."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import COMMANDS
from bot.sandbox import DEFAULT_TOKEN, Sandbox
from tests.cast import (
    ADMIN,
    ADMIN_RU,
    AUTONEWS,
    CHANNEL_ADMIN,
    GROUP,
    PLANTNEWS,
    READER,
    READER_RU,
)
from tests.conftest import _TOKEN_SECRET
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
NEWCHAN = -1009
MASKED = "123456:SA***EN"


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def bot_texts(bot: BotHarness, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in bot.bot_messages(chat_id)]


def article_and_poll(bot: BotHarness, chat_id: int) -> tuple[int, int]:
    messages = bot.bot_messages(chat_id)
    return sum("text" in m for m in messages), sum("poll" in m for m in messages)


async def open_admin_chats(bot: BotHarness) -> None:
    """Both admins write to the bot first (a bot cannot start a private chat); the bot
    learns their languages."""
    for admin in (ADMIN, ADMIN_RU):
        await bot.say(admin, "/help")


def notices(bot: BotHarness, chat_id: int, start: str) -> list[str]:
    return [text for text in bot_texts(bot, chat_id) if text.startswith(start)]


async def add_new_channel(bot: BotHarness) -> None:
    """Someone adds the bot to @newchan, a channel nobody configured."""
    await open_admin_chats(bot)
    bot.world.add_chat(NEWCHAN, "channel", "New", "newchan", bot_status="left")
    bot.world.bot_added(NEWCHAN, READER)
    await bot.drain()


# ---------------------------------------------------------------- menus and /help


async def test_menus_are_set_for_subscribers_and_for_each_admin(bot: BotHarness) -> None:
    menus = bot.world.my_commands()

    default = [c["command"] for c in menus["default|"]]
    assert default[:2] == ["start", "help"]
    assert set(default) == {"start", "help", "results", "summary"}
    russian = {c["command"]: c["description"] for c in menus["default|ru"]}
    assert set(russian) == set(default)
    assert russian["help"] == "Что я умею, с примерами"
    for admin in (ADMIN, ADMIN_RU):
        for language in ("", "ru"):
            commands = [c["command"] for c in menus[f"chat:{admin}|{language}"]]
            assert commands == [c.name for c in COMMANDS]
    assert {"post", "newpoll", "approve", "audit"} <= {c.name for c in COMMANDS}


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
async def test_an_edited_command_does_not_act_again(bot: BotHarness, command: str) -> None:
    """Editing a message into a command (or editing a command) is not a new command."""
    await bot.say(ADMIN, "/start")
    message = bot.world.send(ADMIN, "hello")["message"]
    await bot.drain()
    first_call = len(bot.world.calls())
    text = f"/{command} 1"
    entity = {"type": "bot_command", "offset": 0, "length": len(command) + 1}
    edit = {**message, "text": text, "entities": [entity], "edit_date": message["date"] + 5}
    bot.world.raw({"edited_message": edit})
    await bot.drain()
    acted = [c["method"] for c in bot.world.calls()[first_call:] if c["method"] != "getUpdates"]
    assert acted == []


async def test_help_shows_a_subscriber_only_their_commands(bot: BotHarness) -> None:
    (reply,) = await bot.say(READER, "/help")

    text = reply["text"]
    assert text.startswith("What I can do:")
    assert "/results — Results of a poll, per chat and combined" in text
    assert "Example: /results 3" in text
    assert "/summary" in text and "/start" in text
    assert "/post" not in text and "Admin commands" not in text


async def test_help_shows_a_channel_administrator_what_they_may_do_there(
    bot: BotHarness,
) -> None:
    (reply,) = await bot.say(CHANNEL_ADMIN, "/help")

    text = reply["text"]
    assert "In the chats you administer:" in text and "Admin commands" not in text
    for command in ("post", "poll", "newpoll", "close", "polls", "export"):
        assert f"/{command} — " in text
    assert "/approve" not in text and "/schedule" not in text


async def test_help_shows_an_admin_every_command_with_an_example(bot: BotHarness) -> None:
    replies = await bot.say(ADMIN, "/help")

    text = texts(replies)
    assert "Admin commands:" in text
    for command in COMMANDS:
        assert f"/{command.name} — " in text
        assert command.example in text
    assert "<code>/post moscow-plant-reboot @mychannel</code>" in replies[0]["sandbox"]["html"]


async def test_help_in_a_group_lists_no_admin_command(bot: BotHarness) -> None:
    """Admin output stays private: in a group an admin's /help is the subscribers'."""
    text = texts(await bot.say(ADMIN, "/help", chat_id=GROUP))
    assert "/results — " in text
    assert "Admin commands:" not in text and "/export" not in text and "/audit" not in text


async def test_russian_users_get_russian_help_and_replies(bot: BotHarness) -> None:
    (reader,) = await bot.say(READER_RU, "/help")
    (refusal,) = await bot.say(READER_RU, "/channels")
    admin = texts(await bot.say(ADMIN_RU, "/help"))
    (channels,) = await bot.say(ADMIN_RU, "/channels")
    (english,) = await bot.say(READER, "/channels")

    assert reader["text"].startswith("Что я умею:")
    assert "Пример: /results 3" in reader["text"]
    assert "Команды администратора:" in admin and "/approve — " in admin
    assert refusal["text"] == "Извините, это могут только администраторы бота."
    assert channels["text"].startswith("Чаты: 2")
    assert english["text"] == "Sorry, only the bot's admins can do that."


# ---------------------------------------------------------------- chats the bot is in


async def test_configured_channels_are_learned_at_start(bot: BotHarness) -> None:
    plant = await bot.store.chat(PLANTNEWS)
    auto = await bot.store.chat(AUTONEWS)

    assert plant is not None and auto is not None
    assert (plant.title, plant.username, plant.type) == ("Plant News", "plantnews", "channel")
    assert plant.can_post and plant.bot_status == "administrator"
    assert auto.title == "Auto News"


async def test_a_configured_channel_that_fails_is_logged_not_fatal(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    section = f'admins = [{ADMIN}]\nchannels = ["@plantnews", "@nosuchchannel"]\n'
    async with bot_harness(sandbox, tmp_path, bot=section) as bot:
        (reply,) = await bot.say(ADMIN, "/channels")

    assert "@nosuchchannel — configured, but not found" in reply["text"]
    assert "@plantnews (Plant News) — configured target" in reply["text"]
    assert any("@nosuchchannel cannot be used" in r.getMessage() for r in caplog.records)


async def test_an_added_channel_waits_for_approval_then_gets_posts(bot: BotHarness) -> None:
    await add_new_channel(bot)

    (notice,) = notices(bot, ADMIN, "I was added")
    assert notice == (
        "I was added to New (@newchan) by Rita (@rita): send /approve @newchan to post there."
    )
    (russian,) = notices(bot, ADMIN_RU, "Rita (@rita) добавил(а) меня")
    assert russian.endswith("отправьте /approve @newchan, чтобы я публиковал там.")
    (listing,) = await bot.say(ADMIN, "/channels")
    assert "@newchan (New) — pending approval: /approve @newchan" in listing["text"]
    await bot.say(ADMIN, f"/post {SEED}")
    assert bot.messages(NEWCHAN) == []

    (approved,) = await bot.say(ADMIN, "/approve @newchan")
    (listing,) = await bot.say(ADMIN, "/channels")
    await bot.say(ADMIN, f"/post {SEED}")

    assert approved["text"] == "• @newchan: approved, posts and polls can go there."
    assert "@newchan (New) — approved target" in listing["text"]
    assert article_and_poll(bot, NEWCHAN) == (1, 1)
    chat = await bot.store.chat(NEWCHAN)
    assert chat is not None and chat.approved and chat.can_post


async def test_channels_shows_ids_so_a_group_without_a_username_can_be_named(
    bot: BotHarness,
) -> None:
    """Issue 12, finding 8: the group "Plant fans" has no @username; /channels gives its id,
    and that id is what /approve and /newpoll take."""
    await open_admin_chats(bot)
    bot.world.bot_added(GROUP, ADMIN)
    await bot.drain()

    (listing,) = await bot.say(ADMIN, "/channels")
    line = next(line for line in listing["text"].splitlines() if "Plant fans" in line)
    assert line.endswith(f"id {GROUP}")
    assert "@plantnews (Plant News) — configured target · language: en · id " in listing["text"]
    ref = line.rsplit(" ", 1)[1]
    await bot.say(ADMIN, f"/approve {ref}")
    (reply,) = await bot.say(ADMIN, f"/newpoll Where? | here | there | {ref}")
    assert reply["text"].startswith("Poll #1 sent to Plant fans.")
    assert [m["poll"]["question"] for m in bot.bot_messages(GROUP)] == ["Where?"]


async def test_a_promotion_is_recorded_without_a_second_notice(bot: BotHarness) -> None:
    await open_admin_chats(bot)
    bot.world.add_chat(NEWCHAN, "channel", "New", "newchan", bot_status="left")
    bot.world.bot_added(NEWCHAN, READER, status="member", can_post_messages=False)
    await bot.drain()
    (listing,) = await bot.say(ADMIN, "/channels")
    bot.world.bot_added(NEWCHAN, READER)  # promoted to admin with the right to post
    await bot.drain()

    assert "@newchan (New) — no post rights · pending approval" in listing["text"]
    assert len(notices(bot, ADMIN, "I was added")) == 1
    chat = await bot.store.chat(NEWCHAN)
    assert chat is not None and chat.can_post and chat.bot_status == "administrator"


async def test_a_removed_bot_marks_the_chat_gone_and_it_is_no_target(bot: BotHarness) -> None:
    await add_new_channel(bot)
    await bot.say(ADMIN, "/approve @newchan")

    bot.world.bot_removed(NEWCHAN, READER)
    await bot.drain()
    (listing,) = await bot.say(ADMIN, "/channels")
    await bot.say(ADMIN, f"/post {SEED}")

    assert "I was removed from New (@newchan) by Rita (@rita)." in bot_texts(bot, ADMIN)
    assert "@newchan (New) — bot removed" in listing["text"]
    chat = await bot.store.chat(NEWCHAN)
    assert chat is not None and chat.is_gone and not chat.approved
    assert bot.messages(NEWCHAN) == []
    (refused,) = await bot.say(ADMIN, "/approve @newchan")
    assert "I am not in this chat" in refused["text"]


async def test_two_posts_to_a_kicked_channel_give_one_admin_notice(bot: BotHarness) -> None:
    await open_admin_chats(bot)
    bot.world.add_chat(PLANTNEWS, "channel", "Plant News", "plantnews", bot_status="kicked")

    first = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")
    second = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    (notice,) = notices(bot, ADMIN, "I can no longer post")
    assert notice.startswith("I can no longer post to @plantnews: ")
    assert "@plantnews: not posted" in first[-1]["text"]
    assert "@plantnews: not posted" in second[-1]["text"]
    assert len(notices(bot, ADMIN_RU, "Я больше не могу публиковать в @plantnews")) == 1
    assert article_and_poll(bot, AUTONEWS) == (2, 2)


async def test_forget_stops_posting_but_leaves_configured_channels(bot: BotHarness) -> None:
    await add_new_channel(bot)
    await bot.say(ADMIN, "/approve @newchan")

    (forgotten,) = await bot.say(ADMIN, "/forget @newchan")
    (configured,) = await bot.say(ADMIN, "/forget @plantnews")
    (unknown,) = await bot.say(ADMIN, "/forget @nosuchchannel")
    await bot.say(ADMIN, f"/post {SEED}")

    assert forgotten["text"] == "• @newchan: no longer a target."
    assert "@plantnews is in [bot] channels of the config file" in configured["text"]
    assert "I do not know this chat" in unknown["text"]
    assert bot.messages(NEWCHAN) == []
    assert article_and_poll(bot, PLANTNEWS) == (1, 1)


async def test_a_chat_language_makes_its_posts_russian(bot: BotHarness) -> None:
    (reply,) = await bot.say(ADMIN, "/language @autonews ru")
    await bot.say(ADMIN, f"/post {SEED}")
    (usage,) = await bot.say(ADMIN, "/language @autonews klingon")

    assert reply["text"] == "@autonews now gets its posts and polls in Русский."
    auto = [m for m in bot.messages(AUTONEWS)]
    assert auto[0]["text"].startswith("Перезапуск московского завода")
    assert auto[1]["poll"]["question"] == "Что должен выпускать обновлённый московский завод?"
    assert bot.messages(PLANTNEWS)[0]["text"].startswith("Moscow Plant Reboot")
    assert usage["text"].startswith("Send /language @chat LANGUAGE")
    (listing,) = await bot.say(ADMIN, "/channels")
    assert "@autonews (Auto News) — configured target · language: ru" in listing["text"]


# ---------------------------------------------------------------- the audit log


@pytest.fixture
async def moscow_bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotHarness]:
    section = (
        f"admins = [{ADMIN}, {ADMIN_RU}]\n"
        'channels = ["@plantnews", "@autonews"]\n'
        'timezone = "Europe/Moscow"\n'
    )
    async with bot_harness(sandbox, tmp_path, bot=section) as harness:
        yield harness


async def test_audit_shows_who_did_what_where_when(moscow_bot: BotHarness) -> None:
    bot = moscow_bot
    await bot.say(ADMIN, f"/post {SEED} @plantnews")
    await bot.say(ADMIN_RU, "/language @autonews ru")
    await add_new_channel(bot)
    await bot.say(ADMIN, "/approve @newchan")
    await bot.say(READER, "/approve @newchan")  # refused: not an action, not audited

    (reply,) = await bot.say(ADMIN, "/audit")

    lines = reply["text"].splitlines()
    assert lines[0] == "Latest admin actions (Europe/Moscow time):"
    now = datetime.now(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:")
    assert lines[1].startswith(now) and lines[1].endswith(f"{ADMIN} · approve · done")
    assert lines[2].strip() == "@newchan"
    assert f"{READER} · bot added · done" in reply["text"]
    assert f"{ADMIN_RU} · language · done" in reply["text"]
    assert f"{ADMIN} · post · done" in reply["text"]
    assert READER not in [
        e.user_id for e in await bot.store.audit_entries() if e.action == "approve"
    ]


# ---------------------------------------------------------------- failures


def error_ids(text: str) -> list[str]:
    return re.findall(r"\(error ([0-9a-f]{8})\)", text)


async def test_a_failed_command_gives_an_admin_an_error_id_found_in_the_log(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.world.fault("500", method="sendMessage", chat_id=ADMIN, times=1)

    (reply,) = await bot.say(ADMIN, "/channels")

    (error_id,) = error_ids(reply["text"])
    assert reply["text"].startswith("Something went wrong")
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    (letter,) = await bot.store.dead_letters()
    assert record.getMessage() == f"update {letter.update_id} failed (error {error_id})"
    assert record.exc_info is not None and "Traceback" not in reply["text"]


async def test_a_subscriber_gets_a_short_apology_in_private_and_silence_in_a_group(
    bot: BotHarness,
) -> None:
    bot.world.fault("500", method="sendMessage", chat_id=READER, times=1)
    bot.world.fault("500", method="sendMessage", chat_id=GROUP, times=1)

    (private,) = await bot.say(READER, "/help")
    in_group = await bot.say(READER, "/help", chat_id=GROUP)

    assert private["text"] == "Sorry, something went wrong. Please try again later."
    assert in_group == []
    assert len(await bot.store.dead_letters()) == 2


async def test_a_failure_quoting_the_token_logs_it_masked(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(limit: int = 20) -> list[Any]:
        raise ConnectionError(f"cannot reach http://127.0.0.1/bot{DEFAULT_TOKEN}/getMe")

    monkeypatch.setattr(bot.store, "audit_entries", unreachable)

    (reply,) = await bot.say(ADMIN, "/audit")

    (error_id,) = error_ids(reply["text"])
    assert _TOKEN_SECRET not in caplog.text
    assert f"cannot reach http://127.0.0.1/bot{MASKED}/getMe" in caplog.text
    assert error_id in caplog.text
    assert _TOKEN_SECRET not in reply["text"]


async def test_the_session_log_check_would_catch_an_unmasked_request_line(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """The check in conftest looks for the token's secret part in the run's log: the URLs
    the bot requests do contain it, and httpx logs each one at INFO, so only the masking
    keeps it out. Here the request lines are captured and must show the masked form."""
    assert _TOKEN_SECRET in f"{bot.application.bot.base_url}/sendMessage"
    with caplog.at_level(logging.INFO, logger="httpx"):
        await bot.say(ADMIN, "/help")

    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"/bot{MASKED}/sendMessage" in line for line in requests)
    assert not [line for line in requests if _TOKEN_SECRET in line]
