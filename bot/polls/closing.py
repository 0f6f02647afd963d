"""Closing polls: the expiry job for close dates, and ``/close`` to stop a poll at once.

Stopping a poll keeps the final counts Telegram returns; a chat where it cannot be stopped
any more (bot removed...) keeps its last counts as final, and the admin is told which.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackContext, ContextTypes

from bot.admin.auth import admin_or_chat_admin, managed_campaign
from bot.admin.chats import failure_reason, note_failure
from bot.polls.results import campaign_result, render_result
from bot.polls.votes import close_finished, poll_state
from bot.replies import reply_once
from bot.services import Services, of_app, services
from bot.texts import N_, escape, gettext_for
from storage.polls import PollRecord

Context = CallbackContext[Any, Any, Any, Any]
EXPIRY_INTERVAL = 60  # seconds between two checks for polls past their close date
CLOSE_USAGE = N_("Send /close POLL_ID (the number in /polls).")
CLOSE_REFUSED = N_("Only the administrators of all its chats can close poll #{id}.")


async def expire_polls(svc: Services) -> list[int]:
    """Mark polls past their close date closed, close the campaigns they finish, and keep
    the snapshot series bounded; return the ids of the campaigns closed."""
    expired = await svc.store.expired_polls()
    if expired:
        await svc.store.mark_polls_closed([poll.poll_id for poll in expired])
    closed = await close_finished(svc.store, "close date reached")
    await svc.store.thin_snapshots()
    return closed


async def expire_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: close what reached its close date (see expire_polls)."""
    await expire_polls(services(context))


async def _stop(
    context: Context, poll: PollRecord, language: str | None, update_id: int
) -> str | None:
    """Stop one poll and keep the final counts Telegram returns; why not, if it failed.

    stopPoll edits the poll, it sends nothing: stopping it again on a replay is answered
    "already closed", which is taken as done."""
    store = services(context).store
    assert poll.chat_id is not None and poll.message_id is not None
    failure: str | None = None
    try:
        stopped = await context.bot.stop_poll(poll.chat_id, poll.message_id)
    except TelegramError as exc:
        # Already closed: nothing is lost. Otherwise the poll cannot be reached any more
        # (bot removed...), so its counts cannot change for us either: keep them as final.
        if not (isinstance(exc, BadRequest) and "already" in exc.message.lower()):
            await note_failure(context, poll.chat_id, exc, update_id=update_id)
            failure = failure_reason(exc, language or "en")
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
    state = (
        _("Poll #{id} was already closed.") if campaign.is_closed else _("Poll #{id} is closed.")
    )
    lines = [state.format(id=campaign.id)]
    lines += await _stop_all(context, polls, user.language_code, update.update_id)
    store = services(context).store
    if not campaign.is_closed:
        await store.close_campaign(campaign.id)
        await store.audit(user.id, "poll.close", target=f"#{campaign.id}", detail="/close")
    result = await campaign_result(store, campaign.id)
    assert result is not None
    lines += ["", render_result(result, user.language_code)]
    await reply_once(update, context, "\n".join(lines))


async def _stop_all(
    context: Context, polls: list[PollRecord], language: str | None, update_id: int
) -> list[str]:
    """Stop every open poll; a line per chat where that failed."""
    _ = gettext_for(language)
    lines: list[str] = []
    for poll in polls:
        if poll.is_closed or poll.chat_id is None or poll.message_id is None:
            continue
        failure = await _stop(context, poll, language, update_id)
        if failure:
            chat = await services(context).store.chat(poll.chat_id)
            name = chat.display if chat else str(poll.chat_id)
            reason = _("Could not stop it in {chat}: {reason}")
            lines.append(reason.format(chat=escape(name), reason=escape(failure)))
    return lines


async def on_startup(application: Any) -> None:
    """Close polls whose close date passed while the bot was down; then check every minute."""
    await expire_polls(of_app(application))
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            expire_job, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="polls.expire"
        )
