"""Answering a command once: replay-safe replies, packed into Telegram-sized messages.

A reply is recorded in the ``sent`` ledger under its update, so when the pump replays an
update after a crash, the user is not answered twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Message, Update
from telegram.ext import CallbackContext

from bot.services import services
from bot.split import pack

Context = CallbackContext[Any, Any, Any, Any]


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
