"""What each chat of the demo saw, as readable text, and the digest chart saved to disk."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.sandbox import World
from bot.texts import bar, percent, shorten

WIDTH = 78
MAX_POST = 420  # a channel post is the whole article: show its start
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Press:
    """A button someone pressed under a message: shown after that message."""

    chat_id: int
    message_id: int
    text: str  # e.g. "Alice pressed [ Publish ]"


def transcript(world: World, chat_ids: list[int], presses: Sequence[Press] = ()) -> str:
    """Every listed chat with its messages, polls with live counts, photos, and presses."""
    blocks = [
        _chat_block(world, chat_id, presses) for chat_id in chat_ids if chat_id in world.chats
    ]
    return "\n\n".join(blocks)


def _chat_block(world: World, chat_id: int, presses: Sequence[Press]) -> str:
    data = world.chat(chat_id)
    limit = MAX_POST if data["chat"].get("type") != "private" else MAX_TEXT
    lines = [_heading(data["chat"])]
    for message in data["messages"]:
        lines.extend(_message_lines(world, message, limit))
        lines += [
            f"      👆 {press.text}"
            for press in presses
            if (press.chat_id, press.message_id) == (chat_id, message["message_id"])
        ]
    return "\n".join(lines)


def _heading(chat: dict[str, Any]) -> str:
    kind = chat.get("type", "chat")
    name = chat.get("title") or chat.get("first_name") or str(chat.get("id"))
    handle = f" @{chat['username']}" if chat.get("username") else ""
    title = f" {name}{handle} ({'private chat with the bot' if kind == 'private' else kind}) "
    return f"{title:━^{WIDTH}}"


def _message_lines(world: World, message: dict[str, Any], limit: int) -> list[str]:
    sender = "bot" if message["sandbox"]["from_bot"] else _sender(message)
    if "poll" in message:
        return _poll_lines(world, message["poll"]["id"], sender)
    if "photo" in message:
        caption = message.get("caption", "")
        return _wrapped(f"[{sender}] ", "🖼  [chart, PNG]\n" + shorten(caption, limit))
    if "document" in message:
        return [f"[{sender}] 📎 {message['document'].get('file_name', 'document')}"]
    text = message.get("text")
    if text is None:
        return []
    lines = _wrapped(f"[{sender}] ", shorten(text, limit))
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            target = button.get("url") or button.get("callback_data", "")
            lines.append(f"      [ {button['text']} ] → {target}")
    return lines


def _sender(message: dict[str, Any]) -> str:
    author = message.get("from") or {}
    return str(author.get("first_name") or author.get("id") or "?")


def _poll_lines(world: World, poll_id: str, sender: str) -> list[str]:
    poll = world.poll(poll_id)
    total = poll["total_voter_count"]
    state = "closed" if poll["is_closed"] else "open"
    lines = [f"[{sender}] 📊 {poll['question']}  ({total} voters, {state})"]
    for option in poll["options"]:
        count = option["voter_count"]
        share = count / total if total else 0.0
        label = shorten(option["text"], 44)
        lines.append(f"      {label:<44} {bar(share)} {percent(count, total):>4} ({count})")
    return lines


def _wrapped(prefix: str, text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        indent = prefix if not lines else " " * len(prefix)
        lines.extend(
            textwrap.wrap(
                paragraph, WIDTH, initial_indent=indent, subsequent_indent=" " * len(prefix)
            )
            or [indent.rstrip()]
        )
    return lines


def save_chart(world: World, chat_id: int, path: Path) -> Path | None:
    """Write the last chart photo the bot sent to ``chat_id``; None if there is none."""
    for message in reversed(world.chat(chat_id)["messages"]):
        photos = message.get("photo")
        if photos:
            blob = world.file(photos[-1]["file_id"])
            if blob.data:
                path.write_bytes(blob.data)
                return path
    return None
