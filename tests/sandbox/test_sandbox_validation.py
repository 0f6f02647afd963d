"""Telegram's refusals: every check the sandbox makes answers the error Telegram would."""

from __future__ import annotations

from typing import Any

import pytest
import telegram
from telegram.error import BadRequest, Forbidden

from bot.sandbox import World
from tests.sandbox.support import Cast, RawCall

C = Cast()
OPTIONS = [{"text": "Trucks"}, {"text": "Electric cars"}]
BUTTON = {"text": "Summary", "callback_data": "x" * 65}

# (method, params, status, description); the chat ids come from the `cast` fixture.
CASES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "", "options": OPTIONS},
        400,
        "Bad Request: question is empty",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "q" * 301, "options": OPTIONS},
        400,
        "Bad Request: poll question length must not exceed 300",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": []},
        400,
        "Bad Request: poll must have 1-12 options",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": ["o"] * 13},
        400,
        "Bad Request: poll must have 1-12 options",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": ["a", "b" * 101]},
        400,
        "Bad Request: poll options length must not exceed 100",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": ["a", " "]},
        400,
        "Bad Request: poll options must be non-empty",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "type": "quiz"},
        400,
        "Bad Request: correct_option_ids must be specified for quizzes",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.channel,
            "question": "Q?",
            "options": OPTIONS,
            "type": "quiz",
            "correct_option_ids": [1, 0],
        },
        400,
        "Bad Request: correct_option_ids must be increasing indices of the options",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.channel,
            "question": "Q?",
            "options": OPTIONS,
            "type": "quiz",
            "correct_option_ids": [2],
        },
        400,
        "Bad Request: correct_option_ids must be increasing indices of the options",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "open_period": 4},
        400,
        "Bad Request: open_period must be 5-2628000 seconds",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "open_period": 2_628_001},
        400,
        "Bad Request: open_period must be 5-2628000 seconds",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.channel,
            "question": "Q?",
            "options": OPTIONS,
            "open_period": 60,
            "close_date": 2_000_000_000,
        },
        400,
        "Bad Request: open_period and close_date can't be used together",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "close_date": 1_000},
        400,
        "Bad Request: close_date must be 5-2628000 seconds in the future",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "is_anonymous": False},
        400,
        "Bad Request: non-anonymous polls can't be sent to channel chats",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.supergroup,
            "question": "Q?",
            "options": OPTIONS,
            "allow_adding_options": True,
        },
        400,
        "Bad Request: allow_adding_options is not supported for anonymous polls and quizzes",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.supergroup,
            "question": "Q?",
            "options": OPTIONS,
            "is_anonymous": False,
            "type": "quiz",
            "correct_option_ids": [0],
            "allow_adding_options": True,
        },
        400,
        "Bad Request: allow_adding_options is not supported for anonymous polls and quizzes",
    ),
    (
        "sendPoll",
        {"chat_id": C.channel, "question": "Q?", "options": OPTIONS, "description": "d" * 1025},
        400,
        "Bad Request: poll description is too long (at most 1024 characters)",
    ),
    (
        "sendPoll",
        {
            "chat_id": C.channel,
            "question": "Q?",
            "options": OPTIONS,
            "type": "quiz",
            "correct_option_ids": [0],
            "explanation": "e" * 201,
        },
        400,
        "Bad Request: poll explanation is too long (at most 200 characters)",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "x" * 4097},
        400,
        "Bad Request: message is too long",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "   "},
        400,
        "Bad Request: message text is empty",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "<b></b>", "parse_mode": "HTML"},
        400,
        "Bad Request: message text is empty",
    ),
    (
        "sendPhoto",
        {"chat_id": C.channel, "photo": "https://example.org/a.png", "caption": "c" * 1025},
        400,
        "Bad Request: message caption is too long",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "hi", "reply_markup": {"inline_keyboard": [[BUTTON]]}},
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "sendMessage",
        {
            "chat_id": C.channel,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": ""}]]},
        },
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "<br>", "parse_mode": "HTML"},
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 0',
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "<b>bold", "parse_mode": "HTML"},
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "<b><i>x</b></i>", "parse_mode": "HTML"},
        400,
        "Bad Request: can't parse entities: Unmatched end tag at byte offset 7, "
        'expected "</i>", found "</b>"',
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "AT&T", "parse_mode": "HTML"},
        400,
        'Bad Request: can\'t parse entities: Unsupported HTML entity or raw "&" at byte offset 2;'
        ' escape it as "&amp;"',
    ),
    (
        "sendMessage",
        {"chat_id": C.channel, "text": "1 < 2", "parse_mode": "HTML"},
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
    ),
    ("sendMessage", {"chat_id": -100999, "text": "hi"}, 400, "Bad Request: chat not found"),
    ("sendMessage", {"chat_id": "@nobody_here", "text": "hi"}, 400, "Bad Request: chat not found"),
    ("sendMessage", {"chat_id": 555, "text": "hi"}, 400, "Bad Request: chat not found"),
    (
        "sendMessage",
        {"chat_id": C.stranger, "text": "hi"},
        403,
        "Forbidden: bot can't initiate conversation with a user",
    ),
    (
        "editMessageText",
        {"chat_id": C.channel, "message_id": 999, "text": "x"},
        400,
        "Bad Request: message to edit not found",
    ),
    (
        "deleteMessage",
        {"chat_id": C.channel, "message_id": 999},
        400,
        "Bad Request: message to delete not found",
    ),
    (
        "stopPoll",
        {"chat_id": C.channel, "message_id": 999},
        400,
        "Bad Request: message with poll to stop not found",
    ),
    (
        "answerCallbackQuery",
        {"callback_query_id": "42"},
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
    ("getUpdates", {"offset": "abc"}, 400, "Bad Request: can't parse offset as Integer"),
]


@pytest.mark.parametrize(("method", "params", "status", "description"), CASES)
async def test_refusals(
    raw_call: RawCall,
    cast: Cast,
    method: str,
    params: dict[str, Any],
    status: int,
    description: str,
) -> None:
    answer = await raw_call(method, **params)
    assert answer == (status, {"ok": False, "error_code": status, "description": description})


@pytest.mark.parametrize("method", ["sendPoll", "sendDocument"])
async def test_a_refused_reply_stores_nothing(
    raw_call: RawCall, world: World, cast: Cast, method: str
) -> None:
    """Reply target and keyboard are checked before the poll or the file is kept."""
    fields = {"sendPoll": {"question": "Q?", "options": OPTIONS},
              "sendDocument": {"document": "https://example.org/report.csv"}}[method]  # fmt: skip
    polls, files = dict(world.polls), dict(world.files)
    answer = await raw_call(method, chat_id=cast.channel, reply_to_message_id=999, **fields)
    assert answer == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to be replied not found",
        },
    )
    assert (world.polls, world.files) == (polls, files)


async def test_bot_without_post_rights_in_a_channel(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.add_chat(cast.channel, "channel", title="Plant News", can_post_messages=False)
    with pytest.raises(BadRequest, match="Need administrator rights in the channel chat"):
        await bot.send_message(cast.channel, "hi")
    world.add_chat(cast.channel, "channel", title="Plant News", bot_status="member")
    with pytest.raises(BadRequest, match="Need administrator rights"):
        await bot.send_poll(cast.channel, "Q?", ["a", "b"])


@pytest.mark.parametrize(
    ("chat", "status", "description"),
    [
        (C.channel, "kicked", "Forbidden: bot was kicked from the channel chat"),
        (C.supergroup, "kicked", "Forbidden: bot was kicked from the supergroup chat"),
        (C.group, "kicked", "Forbidden: bot was kicked from the group chat"),
        (C.supergroup, "left", "Forbidden: bot is not a member of the supergroup chat"),
        (C.admin, "kicked", "Forbidden: bot was blocked by the user"),
    ],
)
async def test_removed_bot_is_forbidden_on_every_call(
    bot: telegram.Bot, world: World, cast: Cast, chat: int, status: str, description: str
) -> None:
    message = await bot.send_message(chat, "before")
    world.bot_removed(chat, cast.admin, status=status)
    calls = [
        bot.send_message(chat, "hi"),
        bot.send_poll(chat, "Q?", ["a", "b"]),
        bot.send_photo(chat, "https://example.org/a.png"),
        bot.edit_message_text("x", chat, message.message_id),
        bot.delete_message(chat, message.message_id),
        bot.get_chat(chat),
        bot.get_chat_member(chat, cast.admin),
        bot.stop_poll(chat, message.message_id),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            await call
    assert {c["description"] for c in world.calls() if not c["ok"]} == {description}


async def test_edit_with_identical_content_is_not_modified(bot: telegram.Bot, cast: Cast) -> None:
    sent = await bot.send_message(cast.channel, "<b>same</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>same</b>", cast.channel, sent.message_id, parse_mode="HTML"
        )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(cast.channel, sent.message_id)
    edited = await bot.edit_message_text("same", cast.channel, sent.message_id)
    assert isinstance(edited, telegram.Message) and edited.entities == ()


async def test_callback_answer_text_limit_and_single_answer(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    markup = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Go", callback_data="go")]]
    )
    sent = await bot.send_message(cast.admin, "menu", reply_markup=markup)
    query_id = world.press(cast.admin, cast.admin, sent.message_id, "go")["callback_query_id"]
    with pytest.raises(BadRequest, match="200 characters"):
        await bot.answer_callback_query(query_id, "x" * 201)
    assert await bot.answer_callback_query(query_id, "Done", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id, "again")
    [answer] = world.callback_answers()
    assert (answer["text"], answer["show_alert"], answer["data"]) == ("Done", True, "go")


async def test_length_limits_count_text_after_entity_parsing(
    bot: telegram.Bot, cast: Cast
) -> None:
    long_html = "<b>" + "x" * 4096 + "</b>"
    message = await bot.send_message(cast.channel, long_html, parse_mode="HTML")
    assert message.text is not None and len(message.text) == 4096
    caption = "<i>" + "c" * 1024 + "</i>"
    photo = await bot.send_photo(
        cast.channel, "https://example.org/a.png", caption=caption, parse_mode="HTML"
    )
    assert photo.caption is not None and len(photo.caption) == 1024
