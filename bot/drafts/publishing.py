"""Publishing a draft apart from the update that asked, so that votes keep flowing.

A press of Publish (bot/drafts/press.py), or /post, /poll and /newpoll with ``now`` (or
previews off: bot/polls/preview.py ``publish_at_once``), marks the draft ``publishing``
with its job in the update's batch, which commits at once; a task of its own then sends
the draft's messages, each write in a transaction of its own, and last the admin's report.
Replay safety is the ledger's: every send is keyed under the job's origin, so a second
press, a replayed update or a start after a crash (``resume``: the drafts a crash left
``publishing``) sends only what did not go out yet. One lock per draft keeps two tasks
from publishing the same draft at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackContext

from bot.admin.chats import Target
from bot.articles import posting
from bot.polls import campaigns
from bot.polls.preview import Job
from bot.polls.spec import PollSpec
from bot.replies import SendKey, send_once
from bot.services import Services, of_app
from bot.texts import N_, escape, gettext_for, translate
from storage.drafts import PUBLISHED, PUBLISHING, Draft

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
PTBApplication = Application[Any, Any, Any, Any, Any, Any]
Done = Callable[[], Awaitable[None]]
NO_ARTICLE = N_("The article {id} is no longer in the library: nothing was posted.")
PUBLISH_FAILED = N_(
    "Publishing draft #{id} failed (error {error}; the details are in the bot's log). "
    "What went out stays; the rest is sent at the next start, or when you press Publish again."
)


def start(application: PTBApplication, draft_id: int, on_done: Done | None = None) -> None:
    """Publish a draft marked ``publishing`` in a task of its own (``on_done`` runs once it
    is published); the update that marked it goes on, and its batch commits."""
    svc = of_app(application)
    task = application.create_task(
        _run(application, draft_id, on_done), name=f"drafts.publish.{draft_id}"
    )
    svc.publishing_tasks.add(task)
    task.add_done_callback(svc.publishing_tasks.discard)


async def resume(application: PTBApplication) -> None:
    """At start, once caught up: finish the drafts a crash left half published."""
    store = of_app(application).store
    for draft_id in await store.publishing_drafts():
        start(application, draft_id)


async def _run(application: PTBApplication, draft_id: int, on_done: Done | None) -> None:
    svc = of_app(application)
    lock = svc.draft_locks.setdefault(draft_id, asyncio.Lock())
    try:
        async with lock:
            await _publish_claimed(application, svc, draft_id)
            draft = await svc.store.draft(draft_id)
        # Published by this task, or by another one first (the start's resume racing a
        # press made while the bot was down): the press's preview is marked either way.
        if draft is not None and draft.state == PUBLISHED and on_done is not None:
            await on_done()
    except Exception:  # the draft stays "publishing": a press or the next start finishes it
        error_id = secrets.token_hex(4)
        log.exception("publishing draft #%s failed (error %s)", draft_id, error_id)
        await _tell_failure(application, svc, draft_id, error_id)


async def _tell_failure(
    application: PTBApplication, svc: Services, draft_id: int, error_id: str
) -> None:
    """The admin who asked hears of a failed publishing, with its error id (not ledgered:
    a later attempt that fails again has another id)."""
    draft = await svc.store.draft(draft_id)
    job = await _job(svc, draft) if draft is not None else None
    if job is None:
        return
    text = translate(job.language, PUBLISH_FAILED, id=draft_id, error=error_id)
    try:
        await application.bot.send_message(job.chat_id, text, parse_mode=None)
    except TelegramError as exc:
        log.warning("could not report error %s to %s: %s", error_id, job.chat_id, exc)


async def _publish_claimed(application: PTBApplication, svc: Services, draft_id: int) -> bool:
    """Publish the draft if it is still being published; was it published now?"""
    store = svc.store
    await store.after_batch()  # the claim of a batch still running is read once committed
    draft = await store.draft(draft_id)
    if draft is None or draft.state != PUBLISHING:
        return False  # published by another task, or not claimed
    job = await _job(svc, draft)
    if job is None:
        log.info("draft #%s waits for a press of Publish to be finished", draft.id)
        return False
    context: Context = CallbackContext(application)
    report = await _publish(context, draft, job)
    reply = (
        None
        if job.reply_to is None
        else ReplyParameters(job.reply_to, allow_sending_without_reply=True)
    )
    send = functools.partial(
        application.bot.send_message, job.chat_id, report, reply_parameters=reply
    )
    try:
        await send_once(context, SendKey(job.origin, job.what, job.chat_id), send)
    except (Forbidden, BadRequest) as exc:  # the admin blocked the bot, or it left the chat
        log.warning("the report of draft #%s could not be sent: %s", draft.id, exc)
    await store.set_draft_state(draft.id, PUBLISHED, job.user_id)  # the report went, or cannot
    return True


async def _job(svc: Services, draft: Draft) -> Job | None:
    """The draft's job; a draft left publishing by an older pollbot has none (a press of
    Publish finishes it, as it did then)."""
    record = await svc.store.draft_job(draft.id)
    return None if record is None else Job.of_record(record)


def spec_for(svc: Services, draft: Draft) -> Callable[[Target], PollSpec]:
    """The poll a draft sends to a chat: an article's poll in the chat's language."""
    spec = campaigns.spec_of_record(dict(draft.spec or {}))
    article = svc.library.get(draft.article_id) if draft.article_id else None
    if article is None or article.poll is None:
        return lambda _target: spec
    found = article
    return lambda target: found.localized(target.language).poll or spec


async def _publish(context: Context, draft: Draft, job: Job) -> str:
    """Send what the draft holds to the job's chats, under the job's origin; the admin's
    report."""
    svc = of_app(context.application)
    article = svc.library.get(draft.article_id) if draft.article_id else None
    if draft.kind == "post":
        if article is None:
            return escape(translate(job.language, NO_ARTICLE, id=draft.article_id or "?"))
        return await posting.publish_article(
            context,
            article,
            job.targets,
            job.skipped,
            origin=job.origin,
            user_id=job.user_id,
            update_id=job.update_id,
            lang=job.language,
        )
    outcome = await campaigns.publish_campaign(
        context,
        campaigns.spec_of_record(dict(draft.spec or {})),
        job.targets,
        origin=job.origin,
        user_id=job.user_id,
        update_id=job.update_id,
        article_id=draft.article_id,
        localize=spec_for(svc, draft),
    )
    return campaigns.outcome_text(outcome, gettext_for(job.language))
