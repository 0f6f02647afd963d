"""Answering a command once: packing text into Telegram-sized messages, replay-safe replies.

A reply is recorded in the ``sent`` ledger under its update, so when the pump replays an
update after a crash, the user is not answered twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Message, Update
from telegram.constants import MessageLimit
from telegram.ext import CallbackContext

from bot.services import services
from bot.texts import telegram_length

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
Context = CallbackContext[Any, Any, Any, Any]


def pack(
    parts: Sequence[str],
    *,
    separator: str = "\n",
    limit: int = MAX_TEXT,
    measure: Callable[[str], int] = telegram_length,
) -> list[str]:
    """Join ``parts`` into as few messages as fit ``limit`` by ``measure`` (by default UTF-16
    units with the markup counted, to be safe); a part too long on its own is cut between
    its lines."""
    messages: list[str] = []
    current = ""
    for part in parts:
        for piece in _pieces(part, limit, measure):
            joined = f"{current}{separator}{piece}" if current else piece
            if measure(joined) <= limit:
                current = joined
                continue
            messages.append(current)
            current = piece
    return [*messages, current] if current else messages


def _pieces(part: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    if measure(part) <= limit:
        return [part]
    pieces: list[str] = []
    current = ""
    for line in part.split("\n"):
        while measure(line) > limit:  # a single line past the limit: cut it
            pieces.append(line[: limit // 2])
            line = line[limit // 2 :]
        joined = f"{current}\n{line}" if current else line
        if current and measure(joined) > limit:
            pieces.append(current)
            joined = line
        current = joined
    return [*pieces, current] if current else pieces


async def send_once(
    update: Update, context: Context, what: str, send: Callable[[Message], Awaitable[Message]]
) -> bool:
    """Answer in the update's chat with ``send`` unless a replay of this update already
    did (``what`` names the answer in the ledger); True if it was sent now."""
    message = update.effective_message
    if message is None:
        return False
    store = services(context).store
    key = f"u{update.update_id}:{what}:{message.chat_id}"
    if await store.sent(key) is not None:
        return False
    sent = await send(message)
    await store.record_sent(key, message.chat_id, sent.message_id)
    return True


async def reply_once(update: Update, context: Context, text: str, *, what: str = "reply") -> None:
    """Reply in the update's chat (HTML) unless a replay of this update already did."""
    await send_once(update, context, what, lambda message: message.reply_text(text))


async def reply_parts(
    update: Update, context: Context, parts: Sequence[str], *, what: str, separator: str = "\n"
) -> None:
    """Reply with ``parts`` packed into as few messages as fit, each sent once."""
    for index, text in enumerate(pack(parts, separator=separator)):
        await reply_once(update, context, text, what=f"{what}{index}")
