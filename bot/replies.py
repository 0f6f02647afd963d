"""The one way pollbot sends a message: ledger key -> intent -> send -> record.

Every message's intent is committed to the outbox before it is sent, and the message is
recorded in the ``sent`` ledger under a ``SendKey`` (who asked, what, in which chat, which
part). When the pump handles an update again (its batch was fetched again after a crash),
``send_once`` finds the key and sends nothing; an intent without a record is sent again
(at most one repeat per crash, and the caller hears of it). Opening an intent and recording
a send each commit the batch so far (checkpoints), so both are durable before anything else
happens. Also here: packing text into Telegram-sized messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.error import NetworkError
from telegram.ext import CallbackContext

from bot.services import services
from bot.split import pack
from storage.outbox import PollIntent

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class SendKey:
    """Where one message is recorded in the ledger: ``<origin>:<what>:<chat id>:<part>``.

    ``origin`` names who asked: ``u<update id>`` for a message sent while handling an update,
    ``s<schedule id>@<due at>`` for a scheduled digest (a job, claimed durably before it
    sends). ``what`` names the answer, ``part`` numbers the messages of a long one: two
    different answers of one update in one chat need different ``what``s.
    """

    origin: str
    what: str
    chat_id: int
    part: int = 0

    @classmethod
    def of_update(cls, update_id: int, what: str, chat_id: int, part: int = 0) -> SendKey:
        """A message sent while handling update ``update_id``."""
        return cls(f"u{update_id}", what, chat_id, part)

    @classmethod
    def of_schedule(
        cls, schedule_id: int, due_at: int, what: str, chat_id: int, part: int = 0
    ) -> SendKey:
        """A message of the digest that schedule ``schedule_id`` claimed for ``due_at``."""
        return cls(f"s{schedule_id}@{due_at}", what, chat_id, part)

    @property
    def request(self) -> str:
        """The key without its part: names the whole answer (a digest's claim uses it)."""
        return f"{self.origin}:{self.what}:{self.chat_id}"

    def __str__(self) -> str:
        return f"{self.request}:{self.part}"


@dataclass(frozen=True, slots=True)
class Sent:
    """A message that went out: now (``message``), or before (the ledger's message id)."""

    message_id: int | None
    message: Message | None = None
    repeated: bool = False  # sent again after a crash: an earlier request may have arrived

    @property
    def now(self) -> bool:
        """Was it sent by this call (not found in the ledger)?"""
        return self.message is not None


async def send_once(
    context: Context,
    key: SendKey | None,
    send: Callable[[], Awaitable[Message]],
    *,
    poll: PollIntent | None = None,
) -> Sent:
    """Send with ``send`` unless the ledger has ``key``, then record it under ``key``.

    The intent (the outbox) is committed before the request goes out and the result (the
    ledger) right after it comes back: a crash in between, one round trip, makes the next
    attempt send it again, and ``Sent.repeated`` says so, for the caller to tell the admin.
    ``poll`` (a sendPoll) lets a poll that arrived unrecorded be adopted into its campaign
    when Telegram reports it (storage/outbox.py). ``send`` may also write what must become
    durable with the record (a poll's row). Telegram's errors reach the caller, and the
    intent stays open: a timed-out poll may still be adopted. ``key`` None sends without the
    ledger: the caller says why.
    """
    if key is None:
        message = await send()
        return Sent(message.message_id, message)
    store = services(context).store
    done = await store.sent(str(key))
    if done is not None:
        return Sent(done.message_id)
    attempts = await store.open_intent(str(key), key.chat_id, poll)
    try:
        message = await send()
    except Exception as exc:
        if not isinstance(exc, NetworkError):  # refused (400, 403, a Refusal...): not sent
            await store.close_intent(str(key))
        raise  # a timeout, a 5xx, a lost connection: it may have arrived, the intent stays
    await store.record_sent(str(key), key.chat_id, message.message_id)
    if attempts > 1:
        log.warning("%s was sent again after a restart: it may show twice", key)
    return Sent(message.message_id, message, repeated=attempts > 1)


async def already_sent(context: Context, key: SendKey) -> bool:
    """Does the ledger have ``key`` (a replay of an update that got this far)?"""
    return await services(context).store.sent(str(key)) is not None


def reply_key(update: Update, what: str, part: int = 0) -> SendKey | None:
    """The ledger key of an answer in the update's chat (None: the update has no message)."""
    message = update.effective_message
    if message is None:
        return None
    return SendKey.of_update(update.update_id, what, message.chat_id, part)


async def reply_with(
    update: Update,
    context: Context,
    what: str,
    send: Callable[[Message], Awaitable[Message]],
    *,
    part: int = 0,
) -> Sent | None:
    """Answer the update's message with ``send`` once per update (``what`` and ``part`` name
    the answer); None when the update has no message to answer."""
    message = update.effective_message
    if message is None:
        return None
    key = SendKey.of_update(update.update_id, what, message.chat_id, part)
    return await send_once(context, key, lambda: send(message))


async def reply_once(
    update: Update, context: Context, text: str, *, what: str = "reply", plain: bool = False
) -> None:
    """Reply in the update's chat (HTML, or ``plain`` text) unless a replay already did."""
    await reply_with(update, context, what, _text_reply(text, plain))


async def reply_parts(
    update: Update, context: Context, parts: Sequence[str], *, what: str, separator: str = "\n"
) -> None:
    """Reply with ``parts`` packed into as few messages as fit, each sent once."""
    for index, text in enumerate(pack(parts, separator=separator)):
        await reply_with(update, context, what, _text_reply(text), part=index)


def _text_reply(text: str, plain: bool = False) -> Callable[[Message], Awaitable[Message]]:
    """How to answer a message with ``text``: as HTML, or as plain text."""
    if plain:
        return lambda message: message.reply_text(text, parse_mode=None)
    return lambda message: message.reply_text(text)
