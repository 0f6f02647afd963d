"""A press of Publish, Schedule or Cancel under a preview: publish the draft once, ask
when to post it (Schedule, bot/articles/scheduled.py), or cancel it.

Publishing sends under the draft's own origin (``d<draft id>``): the article parts, the
polls (their campaign's origin too) and the report are keyed by it in the ledger, so a
second press, or a press after a crash in the middle of publishing, sends only what did
not go out yet. Every press is answered (answerCallbackQuery), and the preview is edited
to say what became of the draft, without its buttons.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from bot.admin.chats import Target
from bot.articles import newarticle, posting
from bot.drafts import publishing
from bot.polls import newpoll, preview
from bot.replies import SendKey, send_once
from bot.services import services
from bot.texts import N_, escape, gettext_for, translate
from storage.drafts import CANCELLED, EXPIRED, PENDING, PUBLISHED, PUBLISHING, SCHEDULED, Draft

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

NO_DRAFT = N_("This draft no longer exists.")
NOT_YOURS = N_("Only the admin who made this draft (or a bot admin) can press this.")
STATES = {
    PUBLISHED: N_("Draft #{id} was published."),
    CANCELLED: N_("Draft #{id} was cancelled: nothing was sent."),
    EXPIRED: N_("Draft #{id} expired (older than 24 hours): nothing was sent. Ask again."),
    PUBLISHING: N_("Draft #{id} is being published."),
    PENDING: N_("Draft #{id} waits for Publish or Cancel."),
    SCHEDULED: N_("Draft #{id} was scheduled: see /queue."),
}


async def on_press(update: Update, context: Context) -> None:
    """Publish or cancel a draft, answer the press, and mark the preview with the outcome."""
    query = update.callback_query
    if query is None:
        return
    user = query.from_user
    language = user.language_code
    svc = services(context)
    parsed = preview.parse_callback(query.data)
    draft = await svc.store.draft(parsed[1]) if parsed else None
    if parsed is None or draft is None:
        await _answer(query, translate(language, NO_DRAFT))
        return
    if user.id != draft.created_by and not svc.is_admin(user.id):
        await _answer(query, translate(language, NOT_YOURS))
        return
    if parsed[0] == preview.SCHEDULE:
        await _schedule(update, context, draft, user)
        return
    expired = draft.state == PENDING and preview.is_expired(draft, svc.store.now())
    publishing = parsed[0] == preview.PUBLISH and draft.is_open and not expired
    if publishing:  # answered at once: publishing to many chats takes a while
        await _answer(query, translate(language, STATES[PUBLISHING], id=draft.id))
    state = await _decide(update, context, draft, parsed[0], user)
    text = translate(language, STATES[state], id=draft.id)
    if not publishing:
        await _answer(query, text)
    if state not in (PUBLISHING, PENDING):
        await _mark_preview(query, text)


async def _schedule(update: Update, context: Context, draft: Draft, user: User) -> None:
    """Schedule: ask for the time (the admin's next message, bot/articles/newarticle.py)."""
    query = update.callback_query
    assert query is not None
    store = services(context).store
    if draft.state == PENDING and preview.is_expired(draft, store.now()):
        await store.set_draft_state(draft.id, EXPIRED, None)
    draft = await store.draft(draft.id) or draft
    if draft.state != PENDING or draft.kind != "post":
        await _answer(query, translate(user.language_code, STATES[draft.state], id=draft.id))
        return
    text = await newarticle.ask_time(context, user.id, draft.id, user.language_code)
    await _answer(query, text)
    chat_id = query_chat(update) or user.id
    send = functools.partial(context.bot.send_message, chat_id, text, parse_mode=None)
    await send_once(context, SendKey.of_update(update.update_id, "ask-time", chat_id), send)


async def _decide(update: Update, context: Context, draft: Draft, action: str, user: User) -> str:
    """What the press makes of the draft: its state afterwards."""
    store = services(context).store
    if draft.state == PENDING and preview.is_expired(draft, store.now()):
        await store.set_draft_state(draft.id, EXPIRED, None)
        return EXPIRED
    if action == preview.CANCEL:
        if draft.state == PENDING:
            await store.set_draft_state(draft.id, CANCELLED, user.id)
            return CANCELLED
        return draft.state
    if not draft.is_open:
        return draft.state  # published, cancelled or expired before: nothing to do
    chat_id = query_chat(update) or user.id
    checked = await _check(context, draft, user)  # the chats and the poll, as of now
    if isinstance(checked, str):
        send = functools.partial(context.bot.send_message, chat_id, checked)
        await send_once(context, SendKey.of_update(update.update_id, "refused", chat_id), send)
        return draft.state
    # Publishing (or finishing what a crash interrupted): the draft is marked with its job
    # in this update's batch, and a task of its own sends it (bot/drafts/publishing.py);
    # what went out before is skipped by the ledger.
    targets, missing = checked
    job = preview.Job(
        origin=f"d{draft.id}",
        user_id=user.id,
        language=user.language_code,
        chat_id=chat_id,
        what="report",
        targets=tuple(targets),
        skipped=tuple(missing),
        update_id=update.update_id,
    )
    await store.claim_draft(draft.id, user.id, job.record())
    query = update.callback_query
    marked = translate(user.language_code, STATES[PUBLISHED], id=draft.id)
    on_done = None if query is None else functools.partial(_mark_preview, query, marked)
    publishing.start(context.application, draft.id, on_done)
    return PUBLISHING


Checked = tuple[list[Target], list[tuple[str, str]]]  # the targets, and the chats refused


async def _check(context: Context, draft: Draft, user: User) -> Checked | str:
    """The draft's chats as of the press, with the presser's rights (the drafter's own, or
    a bot admin's): a poll goes nowhere unless every chat still takes it (a chat no longer
    a target, a close date passed meanwhile...: the admin's answer, a str); a post goes to
    the chats that still take it, the others reported."""
    language = user.language_code
    refs = [str(chat_id) for chat_id in draft.targets]
    if draft.kind == "post":
        return await posting.allowed_targets(context, user.id, refs, language)
    spec_for = publishing.spec_for(services(context), draft)
    targets, lines = await newpoll.check_targets(context, user.id, refs, spec_for, language)
    if not lines:
        return targets, []
    _ = gettext_for(language)
    return newpoll.refusal(lines, _, _("Nothing was published: make a new request."))


def query_chat(update: Update) -> int | None:
    """The chat of the preview that was pressed."""
    query = update.callback_query
    message = query.message if query else None
    return message.chat.id if message is not None else None


async def _answer(query: CallbackQuery, text: str) -> None:
    """Answer the press (or the user's button spins); a replayed press was answered."""
    try:
        await query.answer(text[:200])
    except TelegramError as exc:
        log.info("could not answer callback query %s: %s", query.id, exc)


async def _mark_preview(query: CallbackQuery, status: str) -> None:
    """Edit the pressed preview: its text plus what became of it, without the buttons."""
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return
    try:
        await message.edit_text(f"{message.text_html}\n\n<b>{escape(status)}</b>")
    except TelegramError as exc:  # already marked (a second press), or too old to edit
        log.info("could not mark the preview of a draft: %s", exc)
