"""Target chats: turning "@channel" into a known chat, defaults, and failed deliveries.

A target is a channel or group the bot posts to. Default targets are the configured
``[bot] channels`` plus chats an admin approved. A chat that answers 403 is marked gone and
the admins are told once, not at every post.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Chat
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import CallbackContext

from bot.services import Services, services
from bot.texts import N_, Problem, translate
from storage.chats import ChatRecord

log = logging.getLogger(__name__)

_REF_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")
Context = CallbackContext[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    type: str
    display: str
    language: str

    @property
    def is_channel(self) -> bool:
        return self.type == Chat.CHANNEL


class TargetError(Exception):
    """A target that cannot be used, with a message for the admin."""

    def __init__(self, ref: str, problem: Problem) -> None:
        super().__init__(f"{ref}: {problem.message}")
        self.ref = ref
        self.problem = problem


def is_chat_ref(token: str) -> bool:
    """``@username`` or a numeric chat id."""
    return bool(_REF_RE.match(token))


def split_targets(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separate chat references from the other words of a command."""
    refs = [a for a in args if is_chat_ref(a) and (a.startswith("@") or a.startswith("-"))]
    return refs, [a for a in args if a not in refs]


def chat_language(svc: Services, chat: ChatRecord | None) -> str:
    return (chat.language if chat and chat.language else None) or svc.config.bot.language


async def resolve(context: Context, ref: str | int) -> Target:
    """Find a chat by @username or id: the store first, then getChat (and remember it)."""
    svc = services(context)
    known = await _known(svc, ref)
    if known is None:
        try:
            chat = await context.bot.get_chat(ref)
        except Forbidden:
            problem = Problem(N_("the bot is not a member of this chat"))
            raise TargetError(str(ref), problem) from None
        except BadRequest:
            raise TargetError(str(ref), Problem(N_("chat not found: check the @username and "
                                                   "that the bot was added to it"))) from None
        known = await svc.store.upsert_chat(chat.id, chat.type, chat.title, chat.username)
    if known.type == Chat.PRIVATE:
        raise TargetError(str(ref), Problem(N_("a private chat cannot be a target")))
    return Target(known.chat_id, known.type, known.display, chat_language(svc, known))


async def _known(svc: Services, ref: str | int) -> ChatRecord | None:
    if isinstance(ref, str) and ref.startswith("@"):
        return await svc.store.chat_by_username(ref)
    return await svc.store.chat(int(ref))


async def default_target_refs(svc: Services) -> list[str | int]:
    """Configured channels, then approved chats not already among them."""
    refs: list[str | int] = list(svc.config.bot.channels)
    for chat in await svc.store.approved_chats():
        if chat.chat_id not in refs and (not chat.username or f"@{chat.username}" not in refs):
            refs.append(chat.chat_id)
    return refs


async def resolve_all(
    context: Context, refs: Sequence[str | int]
) -> tuple[list[Target], list[TargetError]]:
    """Resolve several targets; duplicates are dropped, failures collected."""
    targets: list[Target] = []
    errors: list[TargetError] = []
    for ref in refs:
        try:
            target = await resolve(context, ref)
        except TargetError as exc:
            errors.append(exc)
            continue
        if all(t.chat_id != target.chat_id for t in targets):
            targets.append(target)
    return targets, errors


def failure_reason(exc: TelegramError, language: str) -> str:
    """A short, translated reason for a failed delivery."""
    text = str(exc.message if hasattr(exc, "message") else exc)
    if isinstance(exc, Forbidden):
        return translate(language, "the bot was removed or blocked there ({detail})", detail=text)
    if isinstance(exc, BadRequest) and "rights" in text.lower():
        return translate(language, "the bot is not an admin allowed to post there")
    if isinstance(exc, BadRequest) and "not found" in text.lower():
        return translate(language, "chat not found")
    if isinstance(exc, RetryAfter):
        return translate(language, "Telegram asked to slow down; try again later")
    return translate(language, "Telegram refused: {detail}", detail=text)


async def note_failure(context: Context, chat_id: int, exc: TelegramError) -> None:
    """After a failed delivery: a 403 marks the chat gone and tells the admins once."""
    if not isinstance(exc, Forbidden):
        return
    svc = services(context)
    if await svc.store.mark_gone(chat_id):
        chat = await svc.store.chat(chat_id)
        name = chat.display if chat else str(chat_id)
        log.warning("chat %s answers 403: marked gone", chat_id)
        await tell_admins(context, N_("I can no longer post to {chat}: {reason}"),
                          chat=name, reason=str(exc))


async def tell_admins(context: Context, message: str, **params: Any) -> None:
    """Send a translated notice to every configured admin (failures only logged)."""
    svc = services(context)
    for admin in svc.config.bot.admins:
        try:
            await context.bot.send_message(admin, translate(svc.config.bot.language, message,
                                                             **params), parse_mode=None)
        except TelegramError as exc:
            log.warning("could not notify admin %s: %s", admin, exc)
