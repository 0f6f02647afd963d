"""The final result post: when a campaign closes, its result in each of its chats.

Each chat gets, as a reply to its poll, the winner, each option with its count and share,
its voters and a chart, all of that chat's own poll only (the scope rule,
bot/polls/scope.py); the admin who created the campaign gets the combined result
privately. Each is claimed in the database first (storage/followups.py) and sent under a
ledger key derived from the claim, so it goes out once per chat across restarts and
crashes. The close only claims (``claim``): the sending runs apart (``kick``: a task of
its own, off the pump's batch of votes; the expiry check of every minute and the start
send what is left), one sender at a time (``Services.followups_lock``). A campaign closed
without its claims (a kill in between) is claimed by the next check (``claim_missed``).
``final = false`` in an article's ``[poll]`` or ``nofinal`` in /newpoll turns it off; a
chat whose poll message is gone gets none.
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

import bot.digests.charts as charts  # by module: bot.digests may be loading (it imports us)
from bot.admin.chats import chat_language, note_failure
from bot.polls.results import CampaignResult, campaign_result, render_result
from bot.polls.scope import for_chat, for_user, scoped
from bot.replies import SendKey, Sent, send_once
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


async def claim(
    context: Context, campaign_ids: Sequence[int], *, closed_by: int | None = None
) -> None:
    """Claim the final posts of campaigns that just closed (nothing is sent here: see
    ``kick``). The creator's note is left out when the creator closed it (/close showed
    the result)."""
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


async def claim_missed(context: Context) -> None:
    """Claim the final posts of closed campaigns that have none: a kill came between
    their close and their claim."""
    await claim(context, await services(context).store.unclaimed_closed_campaigns())


def kick(context: Context) -> None:
    """Send the claims now, in a task of its own: not in the handler that claimed them."""
    svc = services(context)
    task = context.application.create_task(send_pending(context), name="polls.followups")
    svc.followups_tasks.add(task)
    task.add_done_callback(svc.followups_tasks.discard)


async def send_pending(context: Context) -> int:
    """Send every claimed final post and note not sent yet, one sender at a time; how many
    messages went out now."""
    async with services(context).followups_lock:
        return await _deliver(context)


async def _deliver(context: Context) -> int:
    store = services(context).store
    await store.after_batch()  # the claims of a batch still running are read once committed
    sent = 0
    for followup in await store.pending_followups((FINAL, NOTE)):
        campaign = await store.campaign(followup.campaign_id)
        if campaign is None or campaign.is_deleted:
            await store.mark_followup_sent(followup.id)  # /delete: nothing to post
            continue
        result = await campaign_result(store, followup.campaign_id)
        assert result is not None
        try:
            done = await _send(context, followup, result)
        except (Forbidden, BadRequest) as exc:  # the chat or its poll is gone: give up
            log.warning("final post of #%s to %s: %s", campaign.id, followup.chat_id, exc)
            await note_failure(context, followup.chat_id, exc)
            done = []
        except TelegramError as exc:  # may pass: the claim stays, sent at the next chance
            log.warning("final post of #%s to %s failed: %s", campaign.id, followup.chat_id, exc)
            continue
        ids = [one.message_id for one in done if one.message_id is not None]
        await store.mark_followup_sent(followup.id, ids)
        sent += sum(one.now for one in done)
    return sent


async def _send(context: Context, followup: Followup, result: CampaignResult) -> list[Sent]:
    """One claimed message (or two: a chart whose caption cannot hold the text)."""
    if followup.kind == NOTE:
        return await _send_note(context, followup, result)
    svc = services(context)
    language = chat_language(svc, await svc.store.chat(followup.chat_id))
    view = scoped(result, for_chat(followup.chat_id, language))
    if view is None:
        return []
    text = render_result(view, language, admin=False, final=True)
    png = None
    if svc.config.digest.charts and not view.hidden:
        own = [
            p
            for p in await svc.store.counts_of(view.campaign.id)
            if p.poll.chat_id == followup.chat_id
        ]
        trend = await charts.trend_of(svc.store, view, own, svc.clock.utc())
        png = await charts.draw([charts.result_chart(view, trend)], language, svc.config.bot.tz)
    try:
        return await _post(context, followup, text, png)
    except BadRequest as exc:
        if png is None or _poll_gone(exc):
            raise
        log.warning("final post of #%s: the chart was refused (%s)", result.campaign.id, exc)
        return await _post(context, followup, text, None)  # the text alone, then


def _poll_gone(exc: BadRequest) -> bool:
    """Telegram says the message to reply to (the poll) is not there any more."""
    return "not found" in exc.message.lower()


async def _post(context: Context, followup: Followup, text: str, png: bytes | None) -> list[Sent]:
    """The result (with its chart, if any) as a reply to the chat's poll; nothing goes out
    where the poll message was deleted (Telegram refuses the reply: BadRequest)."""
    reply = (
        ReplyParameters(followup.reply_to, allow_sending_without_reply=False)
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
    kind = FINAL if png is not None else "final-text"  # a retry without the chart: new keys
    return [
        await send_once(context, SendKey(f"f{followup.id}", kind, chat_id, index), send)
        for index, send in enumerate(parts)
    ]


async def _send_note(context: Context, followup: Followup, result: CampaignResult) -> list[Sent]:
    """The creator's private note: the combined result, split per chat."""
    svc = services(context)
    user_id = followup.chat_id
    language = chat_language(svc, await svc.store.chat(user_id))
    among = [chat.chat_id for chat in result.chats if chat.chat_id is not None]
    view = scoped(result, await for_user(context, user_id, language, among))
    if view is None:
        return []
    head = bold(escape(translate(language, NOTE_HEAD, id=result.campaign.id)))
    text = f"{head}\n\n{render_result(view, language, admin=True, final=True)}"
    send = functools.partial(context.bot.send_message, user_id, text)
    return [await send_once(context, SendKey(f"f{followup.id}", NOTE, user_id), send)]
