"""Admins: command menus, /help, the chats the bot is in, approvals and the audit log.

The bot notices being added to or removed from a chat (``my_chat_member``) and keeps the
chats table in step; a chat it was added to becomes a target only when an admin sends
``/approve``. ``/channels`` shows every chat with its id and state, ``/language`` sets the
language a chat gets its posts in, and ``/audit`` shows the latest admin actions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Chat,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.admin.auth import (
    admin_only,
    admin_or_chat_admin,
    administered_targets,
    in_private,
    remember_language,
)
from bot.admin.chats import (
    TargetError,
    command_ref,
    is_configured,
    known_chat,
    learn_chat,
    record_membership,
    resolve,
    same_chat,
    split_targets,
    user_timezone,
)
from bot.feature import CommandInfo
from bot.replies import reply_once, reply_parts
from bot.services import Services, of_app, services
from bot.texts import (
    ECHO_CHARS,
    N_,
    SUPPORTED_LANGUAGES,
    Gettext,
    bold,
    escape,
    gettext_for,
    shorten,
    translate,
)
from bot.validation import parse_number
from storage.chats import ChatRecord
from storage.store import AuditEntry

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
MENU_LANGUAGES = ("en", "ru")  # the default menu is English; "ru" users get their own
AUDIT_DEFAULT, AUDIT_MAX = 15, 50
PUBLIC_TYPES = (Chat.CHANNEL, Chat.SUPERGROUP, Chat.GROUP)
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


# ---------------------------------------------------------------- menus and /help


def commands_for(svc: Services, admin: bool) -> list[CommandInfo]:
    """The commands a subscriber (or, with ``admin``, a bot admin) may use."""
    return [c for c in svc.commands if admin or not c.admin]


def menu(svc: Services, admin: bool, language: str) -> list[BotCommand]:
    return [BotCommand(c.name, translate(language, c.summary)) for c in commands_for(svc, admin)]


async def set_menus(bot: Bot, svc: Services) -> None:
    """setMyCommands: subscriber commands for everyone, all commands in each admin's chat."""
    for language in MENU_LANGUAGES:
        code = None if language == MENU_LANGUAGES[0] else language
        try:
            await bot.set_my_commands(menu(svc, False, language), BotCommandScopeDefault(), code)
        except TelegramError as exc:
            log.warning("cannot set the command menu (%s): %s", language, exc)
        for admin in svc.config.bot.admins:
            try:
                await bot.set_my_commands(
                    menu(svc, True, language), BotCommandScopeChat(admin), code
                )
            except TelegramError as exc:  # e.g. an admin who never opened the bot
                log.warning("cannot set the admin menu of %s (%s): %s", admin, language, exc)


async def show_help(update: Update, context: Context) -> None:
    """List the commands this user may use, with an example each, in their language."""
    user = update.effective_user
    if user is None or update.effective_message is None:
        return
    _ = gettext_for(user.language_code)
    svc = services(context)
    await remember_language(svc, update)
    lines = [bold(_("What I can do:"))]
    lines += [_help_line(c, _) for c in commands_for(svc, False)]
    if in_private(update):  # admin output stays private: admin commands are listed there
        lines += await _admin_help(context, user.id, _)
    await reply_parts(update, context, lines, what="help")


async def _admin_help(context: Context, user_id: int, _: Gettext) -> list[str]:
    """The commands a bot admin, or a chat's administrator, may use besides."""
    svc = services(context)
    if svc.is_admin(user_id):
        lines = ["", bold(_("Admin commands:"))]
        return lines + [_help_line(c, _) for c in commands_for(svc, True) if c.admin]
    if await administered_targets(context, user_id):
        lines = ["", bold(_("In the chats you administer:"))]
        return lines + [_help_line(c, _) for c in commands_for(svc, True) if c.chat_admin]
    return []


def _help_line(command: CommandInfo, _: Gettext) -> str:
    line = f"/{command.name} — {escape(_(command.summary))}"
    if command.example == f"/{command.name}":
        return line
    example = f"<code>{escape(command.example)}</code>"
    return line + "\n    " + _("Example: {example}").format(example=example)


# ---------------------------------------------------------------- the bot joins or leaves


async def track_bot_membership(update: Update, context: Context) -> None:
    """Keep the chats table in step with the bot's status; tell the admins when it changes."""
    change = update.my_chat_member
    if change is None or change.chat.type == Chat.PRIVATE:
        return  # a user blocking or unblocking the bot: not a target either way
    await record_membership(context, change, update.update_id)


# ---------------------------------------------------------------- /channels


@admin_only
async def list_channels(update: Update, context: Context) -> None:
    """List the chats the bot knows and the configured ones, each with its state."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    known = await svc.store.chats(types=PUBLIC_TYPES)
    known.sort(key=lambda chat: (_rank(svc, chat), chat.display.casefold()))
    lines = [bold(_("Chats: {count}").format(count=len(known)))]
    lines += [_channel_line(svc, chat, _) for chat in known]
    for ref in _unresolved(svc, known):
        state = _("configured, but not found: check the name and that I am in it")
        lines.append(f"• {escape(str(ref))} — {escape(state)}")
    if len(lines) == 1:
        lines.append(_("None yet: add me to a channel as an admin who may post messages."))
    await reply_parts(update, context, lines, what="channels")


def _rank(svc: Services, chat: ChatRecord) -> int:
    if chat.is_gone:
        return 3
    if is_configured(svc, chat):
        return 0
    return 1 if chat.approved else 2


def _channel_line(svc: Services, chat: ChatRecord, _: Gettext) -> str:
    states: list[str] = []
    if chat.is_gone:
        states.append(_("bot removed"))
    elif chat.bot_status != "unknown" and not chat.can_post:
        states.append(_("no post rights"))
    if is_configured(svc, chat):
        states.append(_("configured target"))
    elif chat.approved:
        states.append(_("approved target"))
    elif not chat.is_gone:
        states.append(_("pending approval: /approve {ref}").format(ref=command_ref(chat)))
    language = chat.language or svc.config.bot.language
    states.append(_("language: {language}").format(language=language))
    title = f" ({chat.title})" if chat.title and chat.username else ""
    # The id names a chat without a @username in /approve, /newpoll, /post...
    chat_id = _("id {id}").format(id=f"<code>{chat.chat_id}</code>")
    return f"• {escape(chat.display)}{escape(title)} — {escape(' · '.join(states))} · {chat_id}"


def _unresolved(svc: Services, known: Sequence[ChatRecord]) -> list[str | int]:
    """Configured channels the bot could not find (not in the chats table)."""
    return [
        ref for ref in svc.config.bot.channels if not any(same_chat(ref, chat) for chat in known)
    ]


# ---------------------------------------------------------------- /approve, /forget


@admin_only
async def approve_chats(update: Update, context: Context) -> None:
    """Make chats the bot was added to targets: /approve @chat [...]."""
    user = update.effective_user
    assert user is not None
    refs, words = split_targets(context.args or [])
    _ = gettext_for(user.language_code)
    if not refs or words:
        await reply_once(update, context, escape(_("Send /approve @chat (or a chat id).")))
        return
    lines = [await _approve(context, user.id, ref, user.language_code) for ref in refs]
    await reply_parts(update, context, lines, what="approve")


async def _approve(context: Context, user_id: int, ref: str, language: str | None) -> str:
    """Approve one chat; the line of the reply that says how it went."""
    store = services(context).store
    _ = gettext_for(language)
    try:
        target = await resolve(context, ref)
    except TargetError as error:
        await store.audit(
            user_id, "approve", target=ref, result="failed", detail=error.problem.render("en")
        )
        return "• " + escape(f"{ref}: {error.problem.render(language)}")
    chat = await store.chat(target.chat_id)
    assert chat is not None
    if chat.is_gone:
        await store.audit(
            user_id,
            "approve",
            target=chat.display,
            result="failed",
            detail="the bot is not in the chat",
        )
        reason = _("I am not in this chat: add me first.")
        return "• " + escape(f"{chat.display}: {reason}")
    await store.set_approved(chat.chat_id, True)
    await store.audit(user_id, "approve", target=chat.display, result="ok")
    line = _("{chat}: approved, posts and polls can go there.").format(chat=chat.display)
    if not chat.can_post:
        line += " " + _("But I cannot post there yet: make me an admin who may post messages.")
    return f"• {escape(line)}"


@admin_only
async def forget_chats(update: Update, context: Context) -> None:
    """Stop using chats as targets: /forget @chat [...]."""
    user = update.effective_user
    assert user is not None
    refs, words = split_targets(context.args or [])
    _ = gettext_for(user.language_code)
    if not refs or words:
        await reply_once(update, context, escape(_("Send /forget @chat (or a chat id).")))
        return
    lines = [await _forget(context, user.id, ref, _) for ref in refs]
    await reply_parts(update, context, lines, what="forget")


async def _forget(context: Context, user_id: int, ref: str, _: Gettext) -> str:
    svc = services(context)
    chat = await known_chat(svc, ref)
    if chat is None:
        return "• " + escape(f"{ref}: " + _("I do not know this chat."))
    if is_configured(svc, chat):
        text = _("{chat} is in [bot] channels of the config file: remove it there.")
        return f"• {escape(text.format(chat=chat.display))}"
    await svc.store.forget_chat(chat.chat_id)
    await svc.store.audit(user_id, "forget", target=chat.display, result="ok")
    text = _("{chat}: no longer a target.")
    return f"• {escape(text.format(chat=chat.display))}"


# ---------------------------------------------------------------- /language


@admin_only
async def set_language(update: Update, context: Context) -> None:
    """Set the language a chat gets its posts and polls in: /language @chat ru."""
    user = update.effective_user
    assert user is not None
    _ = gettext_for(user.language_code)
    refs, words = split_targets(context.args or [])
    wanted = words[0].lower() if len(words) == 1 else ""
    if len(refs) != 1 or wanted not in (*SUPPORTED_LANGUAGES, "default"):
        usage = _("Send /language @chat LANGUAGE, with LANGUAGE one of: {languages}.")
        languages = ", ".join((*SUPPORTED_LANGUAGES, "default"))
        await reply_once(update, context, escape(usage.format(languages=languages)))
        return
    svc = services(context)
    try:
        target = await resolve(context, refs[0])
    except TargetError as error:
        problem = error.problem.render(user.language_code)
        await reply_once(update, context, escape(f"{refs[0]}: {problem}"))
        return
    language = None if wanted == "default" else wanted
    await svc.store.set_chat_language(target.chat_id, language)
    await svc.store.audit(
        user.id, "language", target=target.display, result="ok", detail=language or "default"
    )
    shown = LANGUAGE_NAMES.get(language or svc.config.bot.language, svc.config.bot.language)
    text = _("{chat} now gets its posts and polls in {language}.")
    await reply_once(update, context, escape(text.format(chat=target.display, language=shown)))


# ---------------------------------------------------------------- /timezone

TIMEZONE_USAGE = N_(
    "Send /timezone with a time zone such as Europe/Moscow (or default). Yours now: {zone}."
)
TIMEZONE_SET = N_("Your time zone is now {zone}: the times you type and read are in it.")
UNKNOWN_TIMEZONE = N_(
    "Unknown time zone “{zone}”: use a tz database name such as Europe/Moscow, "
    "America/New_York or UTC."
)


@admin_or_chat_admin
async def set_timezone(update: Update, context: Context) -> None:
    """Set the time zone an admin types and reads times in: /timezone Europe/Moscow."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    language = user.language_code
    args = context.args or []
    if len(args) != 1:
        zone = await user_timezone(svc, user.id)
        await reply_once(
            update, context, translate(language, TIMEZONE_USAGE, zone=zone), plain=True
        )
        return
    wanted = None if args[0].lower() == "default" else args[0]
    if wanted is not None and not _is_zone(wanted):
        text = translate(language, UNKNOWN_TIMEZONE, zone=shorten(wanted, ECHO_CHARS))
        await reply_once(update, context, text, plain=True)
        return
    await svc.store.upsert_chat(user.id, Chat.PRIVATE, None, user.username)
    await svc.store.set_chat_timezone(user.id, wanted)
    zone = await user_timezone(svc, user.id)
    await reply_once(update, context, translate(language, TIMEZONE_SET, zone=zone), plain=True)


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        return False
    return True


# ---------------------------------------------------------------- /audit


@admin_only
async def show_audit(update: Update, context: Context) -> None:
    """Show the latest admin actions: time, who, what, where, result: /audit [N]."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    args = context.args or []
    count = (parse_number(args[0]) if args else None) or AUDIT_DEFAULT
    entries = await svc.store.audit_entries(min(max(count, 1), AUDIT_MAX))
    if not entries:
        await reply_once(update, context, escape(_("No admin actions yet.")))
        return
    head = _("Latest admin actions ({timezone} time):").format(timezone=svc.config.bot.timezone)
    lines = [bold(head)] + [_audit_line(svc, entry, _) for entry in entries]
    await reply_parts(update, context, lines, what="audit")


RESULTS = {"ok": N_("done"), "partial": N_("partly done"), "failed": N_("failed")}


def _audit_line(svc: Services, entry: AuditEntry, _: Gettext) -> str:
    when = datetime.fromtimestamp(entry.at, svc.config.bot.tz).strftime("%Y-%m-%d %H:%M")
    result = _(RESULTS[entry.result]) if entry.result in RESULTS else entry.result
    who = str(entry.user_id) if entry.user_id is not None else "-"
    line = f"<code>{when}</code> {escape(who)} · {bold(entry.action)} · {escape(result)}"
    if entry.target:
        line += f"\n    {escape(entry.target)}"
    return line


async def on_startup(application: Any) -> None:
    """Learn the configured channels (ids, titles, rights) and set the command menus."""
    svc = of_app(application)
    for ref in svc.config.bot.channels:
        try:
            chat = await learn_chat(application.bot, svc.store, ref)
        except TelegramError as exc:
            log.error("configured channel %s cannot be used: %s", ref, exc)
            continue
        if chat.is_gone or not chat.can_post:
            log.warning("configured channel %s: the bot cannot post there", ref)
    await set_menus(application.bot, svc)
