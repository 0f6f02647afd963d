"""Reminders: one reply to the poll in each chat a while before it closes.

How long before is ``remind=1h`` of /newpoll (``remind_before`` of an article's ``[poll]``),
else ``[polls] remind_before`` of the config; a poll without a close time gets none. Each
reminder is claimed (storage/followups.py) and sent under a ledger key derived from the
claim, so a chat gets it once; a poll closed before it is due (``/close``) gets none. A
JobQueue job per campaign fires at the due time (registered at start from the database
and when a campaign is published); the expiry check of every minute sends what a job
missed (the bot was down).
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from telegram import ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext

from bot.admin.chats import chat_language, note_failure
from bot.replies import SendKey, Sent, send_once
from bot.services import Services, services
from bot.texts import translate_plural
from storage.followups import REMIND, ClosingPoll, Followup

log = logging.getLogger(__name__)
Context = CallbackContext[Any, Any, Any, Any]
JOB_PREFIX = "polls.remind:"


def remind_before(svc: Services, spec: dict[str, object]) -> int | None:
    """Seconds before the close to remind a campaign's chats (its own setting, else the
    config's); None: no reminder."""
    own = spec.get("remind_before")
    if isinstance(own, int):
        return own or None  # 0: remind=off
    return svc.config.polls.remind_seconds


def _due_at(svc: Services, poll: ClosingPoll) -> int | None:
    """When the reminder is due; None when there is none, or it would come before the poll
    was posted (the config's reminder is longer than this poll's life)."""
    before = remind_before(svc, poll.spec)
    due = None if before is None else poll.close_date - before
    return None if due is None or due <= poll.posted_at else due


async def send_due(context: Context) -> int:
    """Claim the reminders that are due, then send every claim of a poll still open, one
    sender at a time (``Services.followups_lock``); how many went out now."""
    async with services(context).followups_lock:
        return await _send_due(context)


async def _send_due(context: Context) -> int:
    svc = services(context)
    now = svc.clock.seconds()
    open_polls = {(p.campaign_id, p.chat_id): p for p in await svc.store.closing_polls()}
    for poll in open_polls.values():
        due = _due_at(svc, poll)
        if due is not None and due <= now < poll.close_date:
            await svc.store.claim_followups(
                poll.campaign_id, REMIND, [(poll.chat_id, poll.message_id)]
            )
    sent = 0
    for claim in await svc.store.pending_followups((REMIND,)):
        still = open_polls.get((claim.campaign_id, claim.chat_id))
        done: Sent | None = None
        if still is not None and now < still.close_date:
            try:
                done = await _remind(context, claim, still, still.close_date - now)
            except (Forbidden, BadRequest) as exc:
                await note_failure(context, still.chat_id, exc)
            except TelegramError as exc:  # may pass: sent at the next check if still due
                log.warning("reminder to %s failed: %s", still.chat_id, exc)
                continue
        ids = [done.message_id] if done is not None and done.message_id is not None else []
        await svc.store.mark_followup_sent(claim.id, ids)  # sent, or the poll closed first
        sent += done is not None and done.now
    return sent


def closes_in(language: str, seconds: int) -> str:
    """ "The poll closes in 1 hour" (or minutes, or days), rounded to the nearest."""
    if seconds >= 86400 - 30:
        n = round(seconds / 86400)
        text = translate_plural(
            language, "The poll closes in {n} day", "The poll closes in {n} days", n
        )
    elif seconds >= 3600 - 30:
        n = round(seconds / 3600)
        text = translate_plural(
            language, "The poll closes in {n} hour", "The poll closes in {n} hours", n
        )
    else:
        n = max(1, round(seconds / 60))
        text = translate_plural(
            language, "The poll closes in {n} minute", "The poll closes in {n} minutes", n
        )
    return "⏰ " + text


async def _remind(context: Context, claim: Followup, poll: ClosingPoll, left: int) -> Sent:
    """Reply to the poll in its chat: how long it stays open."""
    svc = services(context)
    language = chat_language(svc, await svc.store.chat(poll.chat_id))
    send = functools.partial(
        context.bot.send_message,
        poll.chat_id,
        closes_in(language, left),
        reply_parameters=ReplyParameters(poll.message_id, allow_sending_without_reply=True),
    )
    return await send_once(context, SendKey(f"r{claim.id}", REMIND, poll.chat_id), send)


async def remind_job(context: Context) -> None:
    """A reminder's time has come (the JobQueue's job)."""
    await send_due(context)


async def schedule_all(context: Context, campaign_id: int | None = None) -> None:
    """A job at the due time of each reminder still ahead (of one campaign, if given)."""
    svc = services(context)
    queue = context.application.job_queue
    if queue is None:
        return
    now = svc.clock.seconds()
    due: dict[int, int] = {}
    for poll in await svc.store.closing_polls():
        when = _due_at(svc, poll)
        if when is not None and when > now and campaign_id in (None, poll.campaign_id):
            due[poll.campaign_id] = min(when, due.get(poll.campaign_id, when))
    for campaign, when in due.items():
        name = f"{JOB_PREFIX}{campaign}"
        for job in queue.get_jobs_by_name(name):
            job.schedule_removal()
        queue.run_once(remind_job, datetime.fromtimestamp(when, UTC), name=name)
