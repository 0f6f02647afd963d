"""Closing polls: the expiry job for close dates, and ``/close`` to stop a poll at once.

Either way, a campaign that closes gets its final result posts (bot/polls/final.py).
Telegram closes a poll at its close date and says so with a ``poll`` update carrying the
final counts (bot/polls/votes.py); the expiry job closes a poll by the bot's own clock
only ``CLOSE_GRACE`` after its close date, when Telegram has not said it, so a final post
does not show the counts of before the updates still on their way.

Stopping a poll keeps the final counts Telegram returns. ``/close`` reports per chat what it
could not stop and why: where the bot can no longer reach the poll (removed from the chat,
message gone) the poll stays open in Telegram and its last counts are kept as final; after
a passing failure (Telegram busy, network) the poll stays open here too, and ``/close``
again tries it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext, ContextTypes

from bot.admin.auth import admin_or_chat_admin, managed_campaign
from bot.admin.chats import failure_reason, note_failure
from bot.polls import final, reminders
from bot.polls.results import campaign_result, render_result
from bot.polls.votes import close_finished, poll_state
from bot.replies import reply_once
from bot.services import Services, services
from bot.texts import N_, Gettext, escape, gettext_for
from storage.polls import PollRecord

Context = CallbackContext[Any, Any, Any, Any]
EXPIRY_INTERVAL = 60  # seconds between two checks for polls past their close date
CLOSE_GRACE = 120  # seconds after its close date a poll Telegram did not report is closed
CLOSE_USAGE = N_("Send /close POLL_ID (the number in /polls).")
CLOSE_REFUSED = N_("Only the administrators of all its chats can close poll #{id}.")
STAYS_OPEN = N_(
    "{chat}: the poll stays open there: {reason}. I cannot reach it any more, so its "
    "results here are final."
)
STILL_OPEN = N_("{chat}: the poll is still open: {reason}. Send /close {id} again.")


@dataclass(frozen=True, slots=True)
class Unstopped:
    """A poll that /close could not stop: where, why, and whether that is for good."""

    chat_id: int
    reason: str
    for_good: bool  # the bot cannot reach it any more: its counts here are final


async def expire_polls(svc: Services) -> list[int]:
    """Mark closed the polls Telegram did not report closed ``CLOSE_GRACE`` after their
    close date, close the campaigns they finish, and keep the snapshot series bounded;
    return the ids of the campaigns closed."""
    expired = await svc.store.expired_polls(svc.clock.seconds() - CLOSE_GRACE)
    if expired:
        await svc.store.mark_polls_closed([poll.poll_id for poll in expired])
    closed = await close_finished(svc.store, "close date reached")
    await svc.store.thin_snapshots()
    return closed


async def expire_job(context: Context) -> None:
    """Every minute (and once caught up at start): close what Telegram did not (see
    expire_polls), claim the final posts of what closed (and of what a kill left
    unclaimed), send every claim left, and the reminders due."""
    closed = await expire_polls(services(context))
    await final.claim(context, closed)
    await final.claim_missed(context)
    await final.send_pending(context)
    await reminders.send_due(context)


async def _stop(
    context: Context, poll: PollRecord, language: str | None, update_id: int
) -> Unstopped | None:
    """Stop one poll and keep the final counts Telegram returns; why not, if it failed.

    stopPoll edits the poll, it sends nothing: stopping it again on a replay is answered
    "already closed", which is taken as done."""
    store = services(context).store
    assert poll.chat_id is not None and poll.message_id is not None
    failure: Unstopped | None = None
    try:
        stopped = await context.bot.stop_poll(poll.chat_id, poll.message_id)
    except TelegramError as exc:
        already = isinstance(exc, BadRequest) and "already" in exc.message.lower()
        # Forbidden, BadRequest: the poll cannot be reached any more (bot removed, message
        # gone...), so its counts cannot change for us either: keep them as final. Anything
        # else may pass: the poll stays open here, and /close again tries again.
        for_good = isinstance(exc, Forbidden | BadRequest)
        if not already:
            await note_failure(context, poll.chat_id, exc, update_id=update_id)
            failure = Unstopped(poll.chat_id, failure_reason(exc, language or "en"), for_good)
        if already or for_good:
            await store.mark_polls_closed([poll.poll_id])
    else:
        await store.apply_poll_state(poll_state(stopped))
    await store.checkpoint()
    return failure


@admin_or_chat_admin
async def close_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every poll of a campaign, keep the final counts, and show the result."""
    user = update.effective_user
    assert user is not None
    found = await managed_campaign(update, context, CLOSE_USAGE, CLOSE_REFUSED)
    if found is None:
        return
    campaign, polls = found
    _ = gettext_for(user.language_code)
    failures = await _stop_all(context, polls, user.language_code, update.update_id)
    if campaign.is_closed:
        state = _("Poll #{id} was already closed.")
    elif failures:
        state = _("Poll #{id} could not be stopped in every chat:")
    else:
        state = _("Poll #{id} is closed.")
    lines = [state.format(id=campaign.id)]
    lines += [await _failure_line(context, failure, campaign.id, _) for failure in failures]
    store = services(context).store
    if not campaign.is_closed and all(failure.for_good for failure in failures):
        await store.close_campaign(campaign.id)
        outcome = "partial" if failures else "ok"
        await store.audit(
            user.id, "poll.close", target=f"#{campaign.id}", result=outcome, detail="/close"
        )
        await final.claim(context, [campaign.id], closed_by=user.id)
        final.kick(context)
    result = await campaign_result(store, campaign.id)
    assert result is not None
    lines += ["", render_result(result, user.language_code)]
    await reply_once(update, context, "\n".join(lines))


async def _stop_all(
    context: Context, polls: list[PollRecord], language: str | None, update_id: int
) -> list[Unstopped]:
    """Stop every open poll; what could not be stopped, per chat."""
    failures: list[Unstopped] = []
    for poll in polls:
        if poll.is_closed or poll.chat_id is None or poll.message_id is None:
            continue
        failure = await _stop(context, poll, language, update_id)
        if failure is not None:
            failures.append(failure)
    return failures


async def _failure_line(context: Context, failure: Unstopped, campaign_id: int, _: Gettext) -> str:
    """The line of the /close reply about one chat where the poll could not be stopped."""
    chat = await services(context).store.chat(failure.chat_id)
    name = chat.display if chat else str(failure.chat_id)
    text = _(STAYS_OPEN if failure.for_good else STILL_OPEN)
    return "• " + escape(text.format(chat=name, reason=failure.reason, id=campaign_id))


async def on_startup(application: Any) -> None:
    """Check for expired polls every minute, and give the reminders their jobs; what
    closed while the bot was down waits for the updates that say so (``on_caught_up``)."""
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            expire_job, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="polls.expire"
        )
    await reminders.schedule_all(CallbackContext(application))


async def on_caught_up(application: Any) -> None:
    """The updates that waited at Telegram are applied (a poll's closing one carries its
    final counts): close what is still past its close date, send the final posts and
    reminders left."""
    await expire_job(CallbackContext(application))
