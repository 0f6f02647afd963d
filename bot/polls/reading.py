"""/polls and /results: campaigns and their results, as bot/polls/scope.py lets a reader
see them. Both answer in a private chat only (a group gets "ask me in a private chat":
bot/admin/auth.py): admins and a chat's administrators (for their chats) see the admin
view; subscribers may ask for the results of polls posted in public chats, a few times a
minute (``[bot] results_per_minute``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from telegram import Chat, Update
from telegram.constants import MessageLimit
from telegram.ext import CallbackContext, ContextTypes

from bot.admin.auth import admin_or_chat_admin, campaign_id_arg
from bot.polls.results import (
    CampaignResult,
    campaign_result,
    combined,
    overview_line,
    render_overview,
    render_result,
)
from bot.polls.scope import Audience, for_user, scoped, views
from bot.replies import reply_once
from bot.services import Services, services
from bot.texts import N_, gettext_for, translate

Context = CallbackContext[Any, Any, Any, Any]
RECENTLY_CLOSED = 7 * 86400  # /polls lists campaigns closed this recently
USAGE = N_("Send /results or /results POLL_ID (the number in /polls).")


# ---------------------------------------------------------------- replying


def rate_wait(svc: Services, user_id: int) -> int:
    """Seconds before this user may ask for results again (0: now; this ask is counted)."""
    moment = time.monotonic()
    recent = [t for t in svc.results_requests.get(user_id, []) if moment - t < 60]
    if len(recent) >= svc.config.bot.results_per_minute:
        svc.results_requests[user_id] = recent
        return max(1, math.ceil(60 - (moment - recent[0])))
    svc.results_requests[user_id] = [*recent, moment]
    if len(svc.results_requests) > 10_000:  # forget users who stopped asking
        for stale in [u for u, times in svc.results_requests.items() if moment - times[-1] > 60]:
            del svc.results_requests[stale]
    return 0


# ---------------------------------------------------------------- handlers


@admin_or_chat_admin
async def list_polls(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List open and recently closed campaigns: id, state, voters, question, chats."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    svc = services(context)
    since = svc.clock.seconds() - RECENTLY_CLOSED
    summaries = await svc.store.campaign_overview(closed_since=since)
    among = {chat_id for s in summaries for chat_id in s.chat_ids}
    audience = await _audience(context, user.id, chat, user.language_code, among)
    lines: list[str] = []
    for item in summaries:
        polls = await svc.store.counts_of(item.campaign.id)
        shown = scoped(await combined(svc.store, item.campaign, polls), audience)
        if shown is not None:
            lines.append(overview_line(shown, audience.language, admin=audience.admin))
    await reply_once(update, context, render_overview(lines, audience.language))


async def show_results(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a campaign's result as bot/polls/scope.py lets this chat see it."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or update.effective_message is None:
        return
    svc = services(context)
    _ = gettext_for(user.language_code)
    privileged = svc.is_admin(user.id)
    if not privileged and (wait := rate_wait(svc, user.id)):
        await reply_once(
            update, context, _("Too many requests: try again in {seconds} s.").format(seconds=wait)
        )
        return
    text = await _results_text(context, user.id, chat, context.args, user.language_code)
    await reply_once(update, context, text)


async def _audience(
    context: Context, user_id: int, chat: Chat, language: str | None, among: Iterable[int]
) -> Audience:
    """Who reads the answer, in their private chat (bot/polls/scope.py)."""
    assert chat.type == Chat.PRIVATE, "/polls and /results answer in private only"
    return await for_user(context, user_id, language, among)


async def _results_text(
    context: Context, user_id: int, chat: Chat, args: list[str] | None, language: str | None
) -> str:
    svc = services(context)
    wanted = campaign_id_arg(args)
    if args and wanted is None:
        return translate(language, USAGE)
    if wanted is None:
        return await _latest_text(context, user_id, chat, language)
    result = await campaign_result(svc.store, wanted)
    if result is None:
        return translate(language, "No poll #{id}.", id=wanted)
    among = [c.chat_id for c in result.chats if c.chat_id is not None]
    audience = await _audience(context, user_id, chat, language, among)
    shown = views(result, audience)
    _ = gettext_for(audience.language)
    if not shown:
        return _("The results of poll #{id} are not public.").format(id=wanted)
    if not audience.admin and all(view.hidden for view in shown):
        return _("The results of poll #{id} are hidden until it closes.").format(id=wanted)
    return _render_views(shown, audience)


def _render_views(shown: list[CampaignResult], audience: Audience) -> str:
    texts = [render_result(view, audience.language, admin=audience.admin) for view in shown]
    return "\n\n".join(texts)[: MessageLimit.MAX_TEXT_LENGTH]


async def _latest_text(context: Context, user_id: int, chat: Chat, language: str | None) -> str:
    """The most recent campaign this chat may see (for a subscriber: with counts to show)."""
    store = services(context).store
    results = [
        await combined(store, campaign, await store.counts_of(campaign.id))
        for campaign in await store.campaigns(closed_since=0, limit=20)
    ]
    among = {c.chat_id for r in results for c in r.chats if c.chat_id is not None}
    audience = await _audience(context, user_id, chat, language, among)
    for result in results:
        shown = [view for view in views(result, audience) if audience.admin or not view.hidden]
        if shown:
            return _render_views(shown, audience)
    return translate(audience.language, "No polls yet.")
