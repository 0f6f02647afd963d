"""Telegram-like checks of what the bot sends: text and caption lengths, inline keyboards,
callback answers, bot commands. Each failure is the 400 Telegram would answer."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.markup import format_text
from bot.sandbox.models import JSON
from bot.sandbox.spec import type_fields

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def message_text(params: dict[str, Any]) -> tuple[str, list[JSON]]:
    """A message's text and entities after parsing; 1-4096 characters."""
    raw = params.get("text")
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request("message text is empty")
    text, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
    if not text:
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities


def caption(params: dict[str, Any]) -> tuple[str | None, list[JSON]]:
    """A media caption and its entities after parsing; at most 1024 characters."""
    raw = params.get("caption")
    if not raw:
        return None, []
    if not isinstance(raw, str):
        raise bad_request("caption must be a string")
    text, entities = format_text(raw, params.get("parse_mode"), params.get("caption_entities"))
    if len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return text or None, entities


def _button(raw: Any) -> JSON:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"]:
        raise bad_request("can't parse inline keyboard button: text must be a non-empty string")
    if not any(key in raw for key in _ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = raw.get("callback_data")
    if data is not None and (
        not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    url = raw.get("url")
    if url is not None and (not isinstance(url, str) or not re.match(r"(https?|tg)://", url)):
        raise bad_request("BUTTON_URL_INVALID")
    known = type_fields("InlineKeyboardButton")
    return {key: value for key, value in raw.items() if key in known}


def inline_markup(raw: Any) -> JSON | None:
    """The InlineKeyboardMarkup to store, or None for no/other keyboards (not kept on messages)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in raw:
        return None  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard: expected an array of button rows")
    return {"inline_keyboard": [[_button(button) for button in row] for row in rows]}


def callback_answer_text(text: Any) -> str | None:
    if text is None:
        return None
    if len(str(text)) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG: callback answer text must be at most 200 characters")
    return str(text)


def bot_commands(raw: Any) -> list[JSON]:
    """The BotCommand list of setMyCommands (at most 100)."""
    if not isinstance(raw, list) or len(raw) > 100:
        raise bad_request("commands must be an array of at most 100 BotCommand")
    commands = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("commands must be an array of BotCommand")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("command description must be 1-256 characters")
        commands.append({"command": command, "description": description})
    return commands
