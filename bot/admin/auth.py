"""Who may do what: the bot's admins, and each channel's own administrators for it.

Admin commands are allowed to the user ids in ``[bot] admins``. A chat's administrators
(getChatAdministrators, cached for ``admin_cache_seconds``) may also post, poll and close
polls in that chat. Everyone else gets a short refusal and nothing changes. Admin output
stays private: an admin command typed in a group gets one short "ask me in a private chat"
with a link to the bot, and nothing else happens there (``private_only`` does the same for
any command).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Sequence

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.helpers import create_deep_linked_url

from bot.admin.chats import default_target_refs, resolve_all
from bot.feature import Callback, Context
from bot.replies import reply_once, reply_with
from bot.services import Services, services
from bot.texts import N_, gettext_for, normalize_language
from bot.validation import parse_number
from storage.polls import Campaign, PollRecord

log = logging.getLogger(__name__)
ASK_IN_PRIVATE = N_("Ask me in a private chat.")
PRIVATE_CHAT_BUTTON = N_("Open a private chat with me")


async def chat_admins(context: Context, chat_id: int) -> frozenset[int]:
    """Ids of a chat's administrators, cached; empty when the bot cannot ask."""
    svc = services(context)
    cached = svc.admin_cache.get(chat_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        members = await context.bot.get_chat_administrators(chat_id)
    except TelegramError as exc:
        log.info("cannot list administrators of %s: %s", chat_id, exc)
        return frozenset()
    admins = frozenset(m.user.id for m in members if not m.user.is_bot)
    svc.admin_cache[chat_id] = (time.monotonic() + svc.config.bot.admin_cache_seconds, admins)
    return admins


async def may_manage(context: Context, user_id: int | None, chat_id: int) -> bool:
    """May this user post, poll or close polls in this chat?"""
    if user_id is None:
        return False
    if services(context).is_admin(user_id):
        return True
    return user_id in await chat_admins(context, chat_id)


async def administered_targets(context: Context, user_id: int) -> list[int]:
    """Known target chats this user administers (for a channel admin's defaults)."""
    targets, _ = await resolve_all(context, await default_target_refs(services(context)))
    return [t.chat_id for t in targets if user_id in await chat_admins(context, t.chat_id)]


async def target_refs(context: Context, user_id: int, refs: Sequence[str]) -> list[str | int]:
    """The chats named, or else the defaults (a chat admin's: the chats they administer)."""
    svc = services(context)
    if refs:
        return list(refs)
    if svc.is_admin(user_id):
        return await default_target_refs(svc)
    return list(await administered_targets(context, user_id))


async def refuse(update: Update, context: Context) -> None:
    """The short refusal a non-admin gets (once per update); nothing else happens."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    log.info(
        "refused %s to user %s", (message.text or "?").split(" ", 1)[0], user.id if user else None
    )
    _ = gettext_for(user.language_code if user else None)
    refusal = _("Sorry, only the bot's admins can do that.")
    await reply_once(update, context, refusal, what="refusal", plain=True)


def in_private(update: Update) -> bool:
    """Was this update sent in a private chat with the bot?"""
    chat = update.effective_chat
    return chat is not None and chat.type == Chat.PRIVATE


async def ask_in_private(update: Update, context: Context) -> None:
    """The one short answer a command gets outside a private chat: a link to the bot."""
    user = update.effective_user
    _ = gettext_for(user.language_code if user else None)
    url = create_deep_linked_url(context.bot.username)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(_(PRIVATE_CHAT_BUTTON), url=url)]])
    text = f"{_(ASK_IN_PRIVATE)} {url}"

    async def send(message: Message) -> Message:
        return await message.reply_text(text, parse_mode=None, reply_markup=markup)

    await reply_with(update, context, "ask-in-private", send)


def private_only(callback: Callback) -> Callback:
    """Answer only in a private chat; elsewhere, ask for one (for everyone)."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: Context) -> None:
        if not in_private(update):
            await ask_in_private(update, context)
            return
        await callback(update, context)

    return guarded


async def remember_language(svc: Services, update: Update) -> None:
    """Keep a bot admin's language (as their private chat's), so notices reach them in it."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != Chat.PRIVATE or not svc.is_admin(user.id):
        return
    language = normalize_language(user.language_code, fallback=svc.config.bot.language)
    known = await svc.store.chat(user.id)
    if known is not None and known.language == language:
        return
    await svc.store.upsert_chat(user.id, Chat.PRIVATE, None, user.username)
    await svc.store.set_chat_language(user.id, language)


def admin_only(callback: Callback) -> Callback:
    """Let the bot's admins through in a private chat; refuse everyone else."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: Context) -> None:
        user = update.effective_user
        svc = services(context)
        if not svc.is_admin(user.id if user else None):
            await refuse(update, context)
            return
        if not in_private(update):
            await ask_in_private(update, context)
            return
        await remember_language(svc, update)
        await callback(update, context)

    return guarded


def admin_or_chat_admin(callback: Callback) -> Callback:
    """Let the bot's admins and chat administrators through in a private chat; the callback
    then checks each target with ``may_manage`` (a chat admin acts in their own chats only)."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        svc = services(context)
        if not svc.is_admin(user.id) and not await administered_targets(context, user.id):
            await refuse(update, context)
            return
        if not in_private(update):
            await ask_in_private(update, context)
            return
        await remember_language(svc, update)
        await callback(update, context)

    return guarded


# ---------------------------------------------------------------- campaigns


def campaign_id_arg(args: list[str] | None) -> int | None:
    """The campaign id of a command (``12`` or ``#12``); None when missing or not a number."""
    return parse_number(args[0], marks="#№") if args else None


async def managed_campaign(
    update: Update, context: Context, usage: str, refusal: str, *, more_args: bool = False
) -> tuple[Campaign, list[PollRecord]] | None:
    """The campaign a command names, with its polls, if the user may manage every one of its
    chats; otherwise reply why (``usage``, ``refusal``: msgids, refusal with ``{id}``).
    Only the id is expected ("/close 1 2" gets the usage) unless ``more_args``."""
    user = update.effective_user
    assert user is not None
    _ = gettext_for(user.language_code)
    store = services(context).store
    args = context.args or []
    campaign_id = campaign_id_arg(args) if len(args) == 1 or more_args else None
    campaign = await store.campaign(campaign_id) if campaign_id is not None else None
    if campaign is None:
        missing = _("No poll #{id}.").format(id=campaign_id)
        await reply_once(update, context, _(usage) if campaign_id is None else missing)
        return None
    polls = await store.polls_of(campaign.id)
    chats = {poll.chat_id for poll in polls if poll.chat_id is not None}
    if not await manages_all(context, user.id, chats):
        await reply_once(update, context, _(refusal).format(id=campaign.id))
        return None
    return campaign, polls


async def manages_all(context: Context, user_id: int, chat_ids: Iterable[int]) -> bool:
    """May the user manage every one of these chats? Stops at the first it may not."""
    for chat_id in chat_ids:
        if not await may_manage(context, user_id, chat_id):
            return False
    return True
