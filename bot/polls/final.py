"""The final result post: when a campaign closes, its result in each of its chats.

Each chat gets, as a reply to its poll, the winner, each option with its count and share,
its voters and a chart, all of that chat's own poll only (the scope rule,
bot/polls/scope.py); the admin who created the campaign gets the combined result
privately. Each is claimed in the database first (storage/followups.py) and sent under a
ledger key derived from the claim, so it goes out once per chat across restarts and
crashes: a claim left unsent is sent by the next close seen, the next expiry check, or the
start. ``final = false`` in an article's ``[poll]`` or ``nofinal`` in /newpoll turns it off.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Message, ReplyParameters
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext

import bot.digests.compose as digest  # imported while bot.digests loads: by module
from bot.admin.chats import chat_language, note_failure
from bot.polls.results import CampaignResult, campaign_result, render_result
from bot.polls.scope import for_chat, for_user, scoped
from bot.replies import SendKey, send_once
from bot.services import services
from bot.texts import N_, bold, escape, telegram_length, translate
from storage.followups import FINAL, NOTE, Followup

log = logging.getLogger(__name__)
Context = CallbackContext[Any, Any, Any, Any]

MAX_CAPTION = int(MessageLimit.CAPTION_LENGTH)
NOTE_HEAD = N_("Poll #{id} has closed: the final result in every chat.")


def wants_final(spec: dict[str, object]) -> bool:
    """Does a campaign (its stored settings) get a final result post? On unless turned off."""
    return spec.get("final_post") is not False


async def after_close(
    context: Context, campaign_ids: Sequence[int], *, closed_by: int | None = None
) -> None:
    """Claim the final posts of campaigns that just closed, then send every claim due.
    The creator's note is left out when the creator closed it (/close showed the result)."""
    store = services(context).store
    for campaign_id in campaign_ids:
        campaign = await store.campaign(campaign_id)
        if campaign is None or campaign.is_deleted or not wants_final(campaign.spec):
            continue
        polls = [
            (poll.chat_id, poll.message_id)
            for poll in await store.polls_of(campaign_id)
            if poll.chat_id is not None
        ]
        await store.claim_followups(campaign_id, FINAL, polls)
        if campaign.created_by not in (None, closed_by):
            await store.claim_followups(campaign_id, NOTE, [(campaign.created_by, None)])
    await deliver(context)


async def deliver(context: Context) -> int:
    """Send every claimed final post and note not sent yet; how many went out now."""
    store = services(context).store
    sent = 0
    for followup in await store.pending_followups((FINAL, NOTE)):
        campaign = await store.campaign(followup.campaign_id)
        if campaign is None or campaign.is_deleted:
            await store.mark_followup_sent(followup.id)  # /delete: nothing to post
            continue
        result = await campaign_result(store, followup.campaign_id)
        assert result is not None
        try:
            sent += await _send(context, followup, result)
        except (Forbidden, BadRequest) as exc:  # the chat is gone for the bot: give up
            log.warning("final post of #%s to %s: %s", campaign.id, followup.chat_id, exc)
            await note_failure(context, followup.chat_id, exc)
        except TelegramError as exc:  # may pass: the claim stays, sent at the next chance
            log.warning("final post of #%s to %s failed: %s", campaign.id, followup.chat_id, exc)
            continue
        await store.mark_followup_sent(followup.id)
    return sent


async def _send(context: Context, followup: Followup, result: CampaignResult) -> int:
    """One claimed message (or two: a chart whose caption cannot hold the text)."""
    if followup.kind == NOTE:
        return await _send_note(context, followup, result)
    svc = services(context)
    language = chat_language(svc, await svc.store.chat(followup.chat_id))
    view = scoped(result, for_chat(followup.chat_id, language))
    if view is None:
        return 0
    text = render_result(view, language, admin=False, final=True)
    png = None
    if svc.config.digest.charts and not view.hidden:
        polls = [p for p in await svc.store.counts_of(view.campaign.id)]
        own = [p for p in polls if p.poll.chat_id == followup.chat_id]
        trend = await digest.trend_of(svc.store, view, own, svc.clock.utc())
        png = await digest.draw([digest.result_chart(view, trend)], language, svc.config.bot.tz)
    reply = (
        ReplyParameters(followup.reply_to, allow_sending_without_reply=True)
        if followup.reply_to is not None
        else None
    )
    bot, chat_id = context.bot, followup.chat_id
    parts: list[Callable[[], Awaitable[Message]]] = []
    if png is not None and telegram_length(text) <= MAX_CAPTION:
        parts.append(
            functools.partial(bot.send_photo, chat_id, png, caption=text, reply_parameters=reply)
        )
    else:
        if png is not None:
            parts.append(functools.partial(bot.send_photo, chat_id, png, reply_parameters=reply))
        parts.append(functools.partial(bot.send_message, chat_id, text, reply_parameters=reply))
    count = 0
    for index, send in enumerate(parts):
        done = await send_once(context, SendKey(f"f{followup.id}", FINAL, chat_id, index), send)
        count += done.now
    return count


async def _send_note(context: Context, followup: Followup, result: CampaignResult) -> int:
    """The creator's private note: the combined result, split per chat."""
    svc = services(context)
    user_id = followup.chat_id
    language = chat_language(svc, await svc.store.chat(user_id))
    among = [chat.chat_id for chat in result.chats if chat.chat_id is not None]
    view = scoped(result, await for_user(context, user_id, language, among))
    if view is None:
        return 0
    head = bold(escape(translate(language, NOTE_HEAD, id=result.campaign.id)))
    text = f"{head}\n\n{render_result(view, language, admin=True, final=True)}"
    send = functools.partial(context.bot.send_message, user_id, text)
    done = await send_once(context, SendKey(f"f{followup.id}", NOTE, user_id), send)
    return int(done.now)
