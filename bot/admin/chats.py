"""Target chats: turning "@channel" into a known chat, defaults, and failed deliveries.

A target is a channel or group the bot posts to: a configured ``[bot] channels`` entry or
a chat an admin approved (``/approve``); those are also the default targets, and
``resolve_targets`` refuses any other chat a command names. A chat that answers 403 is
marked gone and the admins are told once, not at every post.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import (
    Bot,
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatMemberUpdated,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import CallbackContext

from bot.config import is_chat_ref
from bot.replies import SendKey, send_once
from bot.services import Services, services
from bot.texts import N_, Problem, translate
from storage import Store
from storage.chats import ChatRecord

log = logging.getLogger(__name__)
NOT_A_TARGET = N_("not one of my targets: a bot admin can make it one with /approve {ref}")

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


def split_targets(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separate chat references from the other words of a command."""
    refs = [a for a in args if is_chat_ref(a)]
    return refs, [a for a in args if a not in refs]


def chat_language(svc: Services, chat: ChatRecord | None) -> str:
    return (chat.language if chat and chat.language else None) or svc.config.bot.language


async def user_timezone(svc: Services, user_id: int) -> ZoneInfo:
    """The time zone a user types and reads times in: their own (/timezone), else the
    bot's (``[bot] timezone``)."""
    chat = await svc.store.chat(user_id)
    if chat is not None and chat.timezone:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError, OSError):
            return ZoneInfo(chat.timezone)
    return svc.config.bot.tz


async def resolve(context: Context, ref: str | int) -> Target:
    """Find a chat by @username or id: the store first, then getChat (and remember it)."""
    svc = services(context)
    known = await known_chat(svc, ref)
    if known is None:
        try:
            known = await learn_chat(context.bot, svc.store, ref)
        except Forbidden:
            problem = Problem(N_("the bot is not a member of this chat"))
            raise TargetError(str(ref), problem) from None
        except BadRequest:
            raise TargetError(
                str(ref),
                Problem(
                    N_("chat not found: check the @username and that the bot was added to it")
                ),
            ) from None
    if known.type == Chat.PRIVATE:
        raise TargetError(str(ref), Problem(N_("a private chat cannot be a target")))
    return Target(known.chat_id, known.type, known.display, chat_language(svc, known))


async def learn_chat(bot: Bot, store: Store, ref: str | int) -> ChatRecord:
    """Ask Telegram about a chat (getChat, then the bot's own rights there) and store it.

    Raises the TelegramError of getChat; the rights are left unknown when only they fail.
    """
    chat = await bot.get_chat(ref)
    status: str | None = None
    can_post: bool | None = None
    if chat.type != Chat.PRIVATE:
        try:
            member = await bot.get_chat_member(chat.id, bot.id)
        except TelegramError as exc:
            log.info("cannot read the bot's rights in %s: %s", chat.id, exc)
        else:
            status, can_post = bot_rights(member, chat.type)
    return await store.upsert_chat(
        chat.id, chat.type, chat.title, chat.username, bot_status=status, can_post=can_post
    )


def bot_rights(member: ChatMember, chat_type: str) -> tuple[str, bool]:
    """The bot's status in a chat as the chats table keeps it, and whether it may post."""
    if isinstance(member, ChatMemberOwner):
        return "administrator", True
    if isinstance(member, ChatMemberAdministrator):
        return "administrator", bool(member.can_post_messages) or chat_type != Chat.CHANNEL
    if isinstance(member, ChatMemberRestricted):
        return "member", member.is_member and member.can_send_messages
    if isinstance(member, ChatMemberMember):
        return "member", chat_type != Chat.CHANNEL
    if isinstance(member, ChatMemberBanned):
        return "kicked", False
    return "left", False


async def known_chat(svc: Services, ref: str | int) -> ChatRecord | None:
    """The stored chat an @username or id names, if the bot knows it (no API call)."""
    if isinstance(ref, str) and ref.startswith("@"):
        return await svc.store.chat_by_username(ref)
    return await svc.store.chat(int(ref))


async def default_target_refs(svc: Services) -> list[str | int]:
    """Configured channels, then approved chats not already among them."""
    refs: list[str | int] = list(svc.config.bot.channels)
    for chat in await svc.store.approved_chats():
        if not any(same_chat(ref, chat) for ref in refs):
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


async def resolve_targets(
    context: Context, refs: Sequence[str | int]
) -> tuple[list[Target], list[TargetError]]:
    """Resolve the chats a command would post to (/post, /poll, /newpoll): a chat that is
    neither configured nor approved is refused, with the /approve command that fixes it."""
    svc = services(context)
    # A chat the bot does not know is no target: it is not asked about (nor stored) here.
    # Configured chats are learned at start (and again here if that failed); an approved
    # chat is known since /approve learned it.
    unknown = [
        ref
        for ref in refs
        if await known_chat(svc, ref) is None
        and not any(ref == configured for configured in svc.config.bot.channels)
    ]
    not_targets = [TargetError(str(ref), Problem(NOT_A_TARGET, {"ref": ref})) for ref in unknown]
    found, errors = await resolve_all(context, [ref for ref in refs if ref not in unknown])
    errors = not_targets + errors
    targets: list[Target] = []
    for target in found:
        chat = await svc.store.chat(target.chat_id)
        if chat is not None and may_post_to(svc, chat):
            targets.append(target)
            continue
        ref = command_ref(chat) if chat is not None else str(target.chat_id)
        problem = Problem(NOT_A_TARGET, {"ref": ref})
        errors.append(TargetError(target.display, problem))
    return targets, errors


def may_post_to(svc: Services, chat: ChatRecord) -> bool:
    """Is this chat a target: configured in ``[bot] channels``, or approved?"""
    return chat.approved or is_configured(svc, chat)


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
        return translate(
            language,
            "Telegram kept asking to wait (its flood limit): not sent; send it to this chat "
            "again later",
        )
    return translate(language, "Telegram refused: {detail}", detail=text)


async def note_failure(
    context: Context, chat_id: int, exc: TelegramError, *, update_id: int | None = None
) -> None:
    """After a failed delivery: a 403 marks the chat gone and tells the admins once (the
    delivery's ``update_id``, if any, makes the notice replay-safe)."""
    if not isinstance(exc, Forbidden):
        return
    svc = services(context)
    if await svc.store.mark_gone(chat_id):
        chat = await svc.store.chat(chat_id)
        name = chat.display if chat else str(chat_id)
        log.warning("chat %s answers 403: marked gone", chat_id)
        await tell_admins(
            context,
            N_("I can no longer post to {chat}: {reason}"),
            update_id=update_id,
            what=f"gone{chat_id}",
            chat=name,
            reason=str(exc),
        )


async def tell_admins(
    context: Context,
    message: str,
    *,
    update_id: int | None = None,
    what: str = "notice",
    **params: Any,
) -> None:
    """Send a notice to every configured admin in their language (failures only logged).

    An admin's language is the one auth.remember_language saw last, else the bot's.

    With ``update_id`` the notice (``what``) is replay-safe: an admin who got it for this
    update does not get it again when the update is handled a second time. Without one it
    is not ledgered: it comes from a job or the start, which nothing replays (a gone
    chat's notice is guarded by ``mark_gone`` there, committed at once outside a batch).
    """
    svc = services(context)
    for admin in svc.config.bot.admins:
        key = None if update_id is None else SendKey.of_update(update_id, what, admin)
        text = translate(chat_language(svc, await svc.store.chat(admin)), message, **params)
        send = functools.partial(context.bot.send_message, admin, text, parse_mode=None)
        try:
            await send_once(context, key, send)
        except TelegramError as exc:
            log.warning("could not notify admin %s: %s", admin, exc)


def command_ref(chat: ChatRecord) -> str:
    """How an admin names this chat in a command: ``@username``, else its id."""
    return f"@{chat.username}" if chat.username else str(chat.chat_id)


def is_configured(svc: Services, chat: ChatRecord) -> bool:
    """Is this chat one of the configured ``[bot] channels``?"""
    return any(same_chat(ref, chat) for ref in svc.config.bot.channels)


def same_chat(ref: str | int, chat: ChatRecord) -> bool:
    """Does a configured reference (``@username`` or id) name this chat?"""
    if isinstance(ref, int):
        return ref == chat.chat_id
    name = ref.removeprefix("@").casefold()
    return chat.username is not None and name == chat.username.casefold()


# ---------------------------------------------------------------- the bot joins or leaves

_JOINED = frozenset(
    {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER, ChatMember.RESTRICTED}
)


async def record_membership(context: Context, change: ChatMemberUpdated, update_id: int) -> None:
    """A ``my_chat_member`` change in a group or channel: store the bot's status and rights
    there, and tell the admins when it joined or was removed (once per ``update_id``)."""
    status, can_post = bot_rights(change.new_chat_member, change.chat.type)
    if status in ("left", "kicked"):
        await _bot_removed(context, change, status, update_id)
        return
    chat = change.chat
    record = await services(context).store.upsert_chat(
        chat.id, chat.type, chat.title, chat.username, bot_status=status, can_post=can_post
    )
    if change.old_chat_member.status not in _JOINED:
        await _bot_added(context, change, record, update_id)


async def _bot_added(
    context: Context, change: ChatMemberUpdated, chat: ChatRecord, update_id: int
) -> None:
    svc = services(context)
    by = _who(change)
    log.info("the bot was added to %s (%s) by %s", chat.chat_id, chat.display, by)
    await svc.store.audit(change.from_user.id, "bot added", target=chat.display, result="ok")
    if chat.approved or is_configured(svc, chat):
        message = N_("I was added to {chat} by {user}. It is already one of my targets.")
    else:
        message = N_("I was added to {chat} by {user}: send /approve {ref} to post there.")
    await tell_admins(
        context,
        message,
        update_id=update_id,
        what="added",
        chat=_title(chat),
        user=by,
        ref=command_ref(chat),
    )


async def _bot_removed(
    context: Context, change: ChatMemberUpdated, status: str, update_id: int
) -> None:
    """Mark the chat gone and no longer approved; the admins are told once."""
    chat = change.chat
    store = services(context).store
    record = await store.upsert_chat(
        chat.id, chat.type, chat.title, chat.username, can_post=False, approved=False
    )
    log.info("the bot was removed from %s (%s): %s", chat.id, record.display, status)
    await store.audit(change.from_user.id, "bot removed", target=record.display, result=status)
    if await store.mark_gone(chat.id, status):  # False: the admins were told already
        await tell_admins(
            context,
            N_("I was removed from {chat} by {user}."),
            update_id=update_id,
            what="removed",
            chat=_title(record),
            user=_who(change),
        )


def _who(change: ChatMemberUpdated) -> str:
    user = change.from_user
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def _title(chat: ChatRecord) -> str:
    return f"{chat.title} ({command_ref(chat)})" if chat.title and chat.username else chat.display
