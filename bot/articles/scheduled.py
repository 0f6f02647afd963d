"""Posts at a set time: ``/post ID [@chat…] at 2026-12-01 09:00`` (or ``in 2h``), and the
Schedule button of an article's preview; ``/queue`` lists them, ``/unqueue ID`` cancels one.

A scheduled post is stored in SQLite and gets a JobQueue job (registered again at start).
At its time it is claimed in the database before anything is sent (pending -> sending,
committed), then published through the one path of drafts (posting.publish_article) under
its own origin ``p<id>``: a crash in the middle is finished at the next start without
repeating what went out. One that fell due while the bot was down goes out at start when it
is less than ``[digest] grace_minutes`` late; otherwise its author is told it was missed.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from bot.admin.auth import admin_or_chat_admin
from bot.admin.chats import Target, chat_language, resolve_all, user_timezone
from bot.articles import posting
from bot.polls.preview import moment
from bot.polls.spec import parse_duration, parse_moment
from bot.replies import SendKey, reply_once, reply_parts, send_once
from bot.services import Services, of_app, services
from bot.texts import N_, Problem, Refusal, escape, gettext_for, translate
from bot.validation import parse_number
from storage.compose import MISSED, QUEUED, SENDING, SENT, UNQUEUED, ScheduledPost

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

WHEN_WORDS = ("at", "in")
BAD_TIME = N_(
    "“{text}” is not a time I can read: write a date and time like 2026-12-01 09:00 "
    "({zone}), or a delay like in 2h, in 30m, in 1d 2h."
)
PAST = N_("{time} is already past: give a time in the future.")
ASK_TIME = N_(
    "When should draft #{id} go out? Send a date and time like 2026-12-01 09:00 ({zone}), "
    "or a delay like in 2h."
)
QUEUED_TEXT = N_("Scheduled post #{id}: {article} to {chats} at {time}. /unqueue {id} cancels it.")
MISSED_TEXT = N_(
    "Scheduled post #{id} ({article}) was due at {time} while the bot was down, and is "
    "later than [digest] grace_minutes now: it was not sent. Send /post {article} again."
)
UNQUEUE_USAGE = N_("Give the number of a scheduled post, e.g. /unqueue 3 (see /queue).")
NO_SUCH_POST = N_("There is no waiting scheduled post #{id}: see /queue.")
UNQUEUED_TEXT = N_("Scheduled post #{id} is cancelled: it will not go out.")
_TIME_WORDS = re.compile(r"^(at|in)$", re.IGNORECASE)


class WhenError(Refusal):
    """A time to post at that cannot be used."""


# ---------------------------------------------------------------- reading a time


def split_when(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The words before ``at``/``in`` and the time after it (None: no time given)."""
    for index, word in enumerate(words):
        if index > 0 and _TIME_WORDS.match(word):
            return list(words[:index]), " ".join(words[index:])
    return list(words), None


def parse_when(text: str, timezone: tzinfo, now: datetime) -> datetime:
    """``at 2026-12-01 09:00`` (in ``timezone``), ``in 2h`` or a bare date; in UTC."""
    word, _space, rest = text.strip().partition(" ")
    kind = word.casefold()
    value = rest.strip() if kind in WHEN_WORDS else text.strip()
    due: datetime | None = None
    if kind == "in":  # a unit is required: "in 3" could be minutes, hours or days
        seconds = None if parse_number(value) is not None else parse_duration(value)
        due = now + timedelta(seconds=seconds) if seconds else None
    else:
        found = parse_moment(value)
        if found is not None:
            due = found if found.tzinfo else found.replace(tzinfo=timezone)
    if due is None:
        raise WhenError(Problem(BAD_TIME, {"text": text.strip(), "zone": str(timezone)}))
    if due <= now:
        raise WhenError(Problem(PAST, {"time": moment(due, timezone)}))
    return due.astimezone(UTC)


# ---------------------------------------------------------------- queueing


async def queue(
    context: Context,
    article_id: str,
    targets: Sequence[Target],
    due: datetime,
    *,
    user_id: int,
    origin: str,
    language: str | None,
    skipped: Sequence[tuple[str, str]] = (),
) -> str:
    """Store a post at ``due``, give it its job, and return the admin's confirmation (plain
    text), with the chats left out and why."""
    svc = services(context)
    post = await svc.store.schedule_post(
        article_id,
        [t.chat_id for t in targets],
        int(due.timestamp()),
        created_by=user_id,
        origin=origin,
    )
    register(context.application, post)
    await svc.store.audit(user_id, "queue", target=article_id, detail=f"#{post.id} at {due}")
    text = translate(
        language,
        QUEUED_TEXT,
        id=post.id,
        article=article_id,
        chats=", ".join(t.display for t in targets),
        time=moment(post.due_at, await user_timezone(svc, user_id)),
    )
    if not skipped:
        return text
    left_out = [f"• {chat}: {reason}" for chat, reason in skipped]
    return "\n".join([text, "", translate(language, N_("Left out:")), *left_out])


def job_name(post_id: int) -> str:
    return f"post:{post_id}"


def register(application: Any, post: ScheduledPost) -> None:
    """The JobQueue job of a waiting post (one per post)."""
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    unregister(application, post.id)
    due = datetime.fromtimestamp(post.due_at, UTC)
    jobs.run_once(run_due_post, when=due, data=post.id, name=job_name(post.id))


def unregister(application: Any, post_id: int) -> None:
    if application.job_queue is not None:
        for job in application.job_queue.get_jobs_by_name(job_name(post_id)):
            job.schedule_removal()


# ---------------------------------------------------------------- sending


async def run_due_post(context: Context) -> None:
    """Send a post whose time has come (the JobQueue's job)."""
    post_id = context.job.data if context.job else None
    svc = services(context)
    post = await svc.store.scheduled_post(post_id) if isinstance(post_id, int) else None
    if post is None or post.state != QUEUED or post.due_at > svc.store.now():
        return  # cancelled, sent, or not due by the bot's clock
    await send_post(context, post)


async def send_post(context: Context, post: ScheduledPost) -> None:
    """Claim the post (or take it over from a process that crashed while sending it), publish
    it, report to its author. Only one caller wins the claim: a post is never sent twice."""
    svc = services(context)
    if post.state == QUEUED:
        if not await svc.store.claim_scheduled_post(post.id):
            return
    elif not await svc.store.resume_scheduled_post(post.id):
        return  # claimed by this process (its job is sending it), or finished
    language = chat_language(svc, await svc.store.chat(post.created_by))
    origin = f"p{post.id}"
    article = svc.library.get(post.article_id)
    if article is None:
        text = N_("The article {id} is no longer in the library: nothing was posted.")
        report = escape(translate(language, text, id=post.article_id))
    else:
        targets, missing = await posting.allowed_targets(
            context, post.created_by, list(post.targets), language
        )
        report = await posting.publish_article(
            context,
            article,
            targets,
            missing,
            origin=origin,
            user_id=post.created_by,
            update_id=None,
            lang=language,
        )
    await svc.store.finish_scheduled_post(post.id, SENT)
    send = functools.partial(context.bot.send_message, post.created_by, report)
    try:
        await send_once(context, SendKey(origin, "report", post.created_by), send)
    except TelegramError as exc:
        log.warning("could not report scheduled post %s: %s", post.id, exc)


async def on_startup(application: Any) -> None:
    """Give every waiting post that is not due yet its job (due ones wait for the catch-up)."""
    svc = of_app(application)
    for post in await svc.store.scheduled_posts(QUEUED):
        if post.due_at > svc.store.now():
            register(application, post)


async def on_caught_up(application: Any) -> None:
    """Finish posts a crash interrupted (claimed before this process started: the JobQueue
    runs during the catch-up and may have claimed others); send those due while the bot was
    down within the grace time, and tell the author about the later ones."""
    context: Context = CallbackContext(application)
    svc = of_app(application)
    grace = svc.config.digest.grace_minutes * 60
    now = svc.store.now()
    for post in await svc.store.scheduled_posts(SENDING, QUEUED):
        if post.state == SENDING or now - grace < post.due_at <= now:
            await send_post(context, post)
        elif post.due_at <= now and await svc.store.finish_scheduled_post(post.id, MISSED):
            await _tell_missed(context, svc, post)


async def _tell_missed(context: Context, svc: Services, post: ScheduledPost) -> None:
    language = chat_language(svc, await svc.store.chat(post.created_by))
    when = moment(post.due_at, await user_timezone(svc, post.created_by))
    text = translate(language, MISSED_TEXT, id=post.id, article=post.article_id, time=when)
    send = functools.partial(context.bot.send_message, post.created_by, text, parse_mode=None)
    try:
        await send_once(context, SendKey(f"p{post.id}", "missed", post.created_by), send)
    except TelegramError as exc:
        log.warning("could not report missed post %s: %s", post.id, exc)


# ---------------------------------------------------------------- /queue, /unqueue


@admin_or_chat_admin
async def list_queue(update: Update, context: Context) -> None:
    """/queue: the posts waiting for their time (a chat admin's own), soonest first."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    posts = [
        post
        for post in await svc.store.scheduled_posts(QUEUED)
        if svc.is_admin(user.id) or post.created_by == user.id
    ]
    head = _("Scheduled posts: {count}").format(count=len(posts))
    lines = [f"<b>{escape(head)}</b>"]
    zone = await user_timezone(svc, user.id)
    for post in posts:
        targets, _errors = await resolve_all(context, list(post.targets))
        chats = ", ".join(t.display for t in targets) or "—"
        article = svc.library.get(post.article_id)
        title = article.title if article else "?"
        when = moment(post.due_at, zone)
        lines.append(
            f"#{post.id} · {escape(when)} · <code>{escape(post.article_id)}</code> "
            f"{escape(title)} → {escape(chats)}"
        )
    if not posts:
        lines.append(escape(_("Nothing is waiting. Schedule with /post ID at 2026-12-01 09:00.")))
    await reply_parts(update, context, lines, what="queue")


@admin_or_chat_admin
async def unqueue(update: Update, context: Context) -> None:
    """/unqueue ID: cancel a waiting post (its author or a bot admin)."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    language = user.language_code
    args = context.args or []
    number = parse_number(args[0], marks="#") if len(args) == 1 else None
    if number is None:
        await reply_once(update, context, translate(language, UNQUEUE_USAGE), plain=True)
        return
    text = str(number)
    post = await svc.store.scheduled_post(number)
    mine = post is not None and (svc.is_admin(user.id) or post.created_by == user.id)
    if post is None or not mine or not await svc.store.finish_scheduled_post(post.id, UNQUEUED):
        await reply_once(update, context, translate(language, NO_SUCH_POST, id=text), plain=True)
        return
    unregister(context.application, post.id)
    await svc.store.audit(user.id, "unqueue", target=post.article_id, detail=f"#{post.id}")
    await reply_once(update, context, translate(language, UNQUEUED_TEXT, id=post.id), plain=True)
