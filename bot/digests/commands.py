"""Digests: scheduled result summaries with charts, that survive restarts.

Scheduled digests are claimed in the database before they are sent, so none is ever sent
twice, and one that fell due while the bot was down is sent once at start, after the
updates waiting at Telegram are applied. What a digest
says is bot/digests/compose.py; when it is due is bot/digests/schedules.py. Commands: /digest,
/schedule, /schedules, /unschedule (admins only, audited).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext

from bot.admin.auth import admin_only
from bot.admin.chats import TargetError, chat_language, resolve, split_targets, tell_admins
from bot.config import ConfigError
from bot.digests import schedules
from bot.digests.compose import DigestRequest, send_digest, timestamp
from bot.replies import reply_once, reply_parts
from bot.services import Services, of_app, services
from bot.texts import N_, Problem, Refusal, escape, gettext_for, normalize_language
from bot.validation import parse_number
from storage.digests import Schedule

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
PTBApplication = Application[Any, Any, Any, Any, Any, Any]
RESUME_WITHIN = timedelta(days=1)  # a digest interrupted longer ago is not finished any more
BAD_DEFAULT_TARGET = N_(
    "The digest target {target} in the config ([digest] target) cannot be used: {reason}. "
    "Scheduled digests keep their previous target until it is fixed."
)


# -- schedules: jobs, catch-up, the default from the config -----------------------------


def _grace(svc: Services) -> timedelta:
    return timedelta(minutes=svc.config.digest.grace_minutes)


async def _request(
    svc: Services, schedule: Schedule, due: datetime, now: datetime
) -> DigestRequest:
    """What to send for a due schedule; without a language of its own (the default
    schedule to admins), the digest follows its chat's language at the time it is sent."""
    language = schedule.language or chat_language(svc, await svc.store.chat(schedule.target_chat))
    return DigestRequest(
        schedule.id,
        schedule.target_chat,
        language,
        schedules.zone(schedule.timezone),
        due,
        now,
    )


async def run_due_digest(context: Context) -> None:
    """Send the digest of a schedule whose time has come (the JobQueue's job)."""
    schedule_id = context.job.data if context.job else None
    svc = services(context)
    schedule = await svc.store.schedule(schedule_id) if isinstance(schedule_id, int) else None
    if schedule is None:  # removed meanwhile
        return
    now = svc.clock.utc()
    due = _missed(schedule, now, max(_grace(svc), timedelta(minutes=1)))
    if due is None:
        log.warning("schedule %s ran at %s with nothing due", schedule.id, now)
        return
    await send_digest(context, await _request(svc, schedule, due, now))


async def catch_up(context: Context, now: datetime) -> int:
    """At start, per schedule: send its latest digest missed by less than the grace time,
    or else finish the latest one a crash interrupted (claimed in the last day and never
    marked sent: owed, so sent even if late); older unsent claims are dropped for it."""
    svc = services(context)
    sent = 0
    since = timestamp(now - RESUME_WITHIN)
    for schedule in await svc.store.schedules():
        unsent = await svc.store.unsent_digests(schedule.id, claimed_since=since)
        missed = _missed(schedule, now, _grace(svc))
        due = missed or (datetime.fromtimestamp(unsent[-1], UTC) if unsent else None)
        if due is None:
            continue
        await svc.store.drop_unsent_digests(schedule.id, due_before=timestamp(due))
        claimed, _ = await send_digest(context, await _request(svc, schedule, due, now))
        sent += claimed
    return sent


def _missed(schedule: Schedule, now: datetime, within: timedelta) -> datetime | None:
    """The schedule's latest due time in (now - within, now] since it took effect."""
    rule = schedules.stored_trigger(schedule)
    if rule is None:
        return None
    due = schedules.last_due(rule, now, within)
    return due if due is not None and timestamp(due) >= schedule.created_at else None


def _register(application: PTBApplication, svc: Services, schedule: Schedule) -> None:
    schedules.register(application, schedule, run_due_digest, grace=_grace(svc))


def _default_zone(svc: Services) -> str:
    return svc.config.digest.timezone or svc.config.bot.timezone


async def sync_default_schedule(context: Context, now: datetime) -> None:
    """Make the is_default schedules match ``[digest] schedule`` and ``target``."""
    svc = services(context)
    cron, zone = svc.config.digest.schedule, _default_zone(svc)
    if cron:
        try:
            schedules.check(cron, zone, now)
        except schedules.ScheduleError as exc:
            raise ConfigError(f"digest.schedule: {exc.render('en')}") from None
    wanted = await _default_targets(context) if cron else []
    if wanted is None:
        return
    existing = {s.target_chat: s for s in await svc.store.schedules() if s.is_default}
    for chat_id, name, language in wanted:
        found = existing.pop(chat_id, None)
        if found is None:
            await svc.store.add_schedule(
                cron,
                zone,
                chat_id,
                at=timestamp(now),
                target_name=name,
                language=language,
                is_default=True,
            )
        elif (found.cron, found.timezone, found.target_name, found.language) != (
            cron, zone, name, language,
        ):  # fmt: skip
            moved = (found.cron, found.timezone) != (cron, zone)
            await svc.store.update_schedule(
                found.id,
                cron,
                zone,
                target_name=name,
                language=language,
                at=timestamp(now) if moved else found.created_at,
            )
    for stale in existing.values():
        await svc.store.remove_schedule(stale.id)


async def _default_targets(context: Context) -> list[tuple[int, str | None, str | None]] | None:
    """The default schedule's chats: ``[digest] target``, or every admin privately (with
    no language of their own: each admin gets the digest in the language they use)."""
    svc = services(context)
    ref = svc.config.digest.target
    if ref is None:
        return [(admin, None, None) for admin in svc.config.bot.admins]
    try:
        target = await resolve(context, ref)
    except TargetError as exc:
        log.error("[digest] target %s cannot be used: %s", ref, exc)
        reason = exc.problem.render(svc.config.bot.language)
        await tell_admins(context, BAD_DEFAULT_TARGET, target=str(ref), reason=reason)
        return None
    return [(target.chat_id, target.display, None)]  # the chat's language when it is sent


async def on_startup(application: Any) -> None:
    """Register the stored schedules with the JobQueue (missed digests wait for
    ``on_caught_up``)."""
    context: Context = CallbackContext(application)
    svc = of_app(application)
    await sync_default_schedule(context, svc.clock.utc())
    for schedule in await svc.store.schedules():
        _register(application, svc, schedule)


async def on_caught_up(application: Any) -> None:
    """Send the digests missed while the bot was down, now that the votes cast meanwhile
    (waiting at Telegram) are applied."""
    context: Context = CallbackContext(application)
    sent = await catch_up(context, of_app(application).clock.utc())
    if sent:
        log.info("sent %d digest(s) missed while the bot was down", sent)


# -- commands ---------------------------------------------------------------------------

BAD_TARGET = N_("Cannot send digests to {ref}: {reason}")
UNSCHEDULE_USAGE = N_(
    "Give the number of a schedule, e.g. /unschedule 3 (the numbers are in /schedules)."
)
NO_SUCH_SCHEDULE = N_("There is no schedule #{id}: see /schedules.")
DEFAULT_SCHEDULE = N_(
    "Schedule #{id} comes from the config ([digest] schedule): change or remove it there "
    "and restart the bot."
)
DIGEST_USAGE = N_("Send /digest for a digest here, or /digest @channel to post one there.")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where digests go: a chat, how to call it, and the language to write in."""

    chat_id: int
    name: str | None
    language: str


def _language(update: Update, context: Context) -> str:
    user = update.effective_user
    fallback = services(context).config.bot.language
    return normalize_language(user.language_code if user else None, fallback)


async def _destination(update: Update, context: Context, refs: Sequence[str]) -> Destination:
    """The chat named in the command, else the admin's own private chat ("to you")."""
    user = update.effective_user
    assert user is not None
    language = _language(update, context)
    if not refs:
        return Destination(user.id, user.full_name, language)
    ref: str | int = refs[0]
    try:
        target = await resolve(context, ref)
    except TargetError as exc:
        reason = exc.problem.render(language)
        raise Refusal(Problem(BAD_TARGET, {"ref": str(ref), "reason": reason})) from None
    return Destination(target.chat_id, target.display, target.language)


@admin_only
async def add_schedule(update: Update, context: Context) -> None:
    """Add a digest schedule: /schedule "CRON" [@target] [time zone]."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    words = (message.text or "").split(maxsplit=1)
    text = words[1] if len(words) > 1 else ""
    now = svc.clock.utc()
    try:
        request = schedules.parse_request(text)
        zone = request.zone or _default_zone(svc)
        schedules.check(request.cron, zone, now)
        where = await _destination(update, context, [request.ref] if request.ref else [])
    except Refusal as exc:
        await svc.store.audit(user.id, "schedule", result="refused", detail=text[:200])
        text = escape(exc.render(user.language_code))  # it quotes what the admin typed
        await reply_once(update, context, text, what="schedule")
        return
    schedule, created = await svc.store.add_schedule(
        request.cron, zone, where.chat_id, at=timestamp(now), target_name=where.name,
        language=where.language if where.chat_id > 0 else None,  # a chat's: read when sent
        created_by=user.id, origin=f"u{update.update_id}",
    )  # fmt: skip
    _register(context.application, svc, schedule)
    if created:
        await svc.store.audit(
            user.id,
            "schedule",
            target=str(where.chat_id),
            detail=f"#{schedule.id} {schedule.cron} {schedule.timezone}",
        )
    text = "✅ " + _("Digests scheduled:") + "\n" + schedules.describe(schedule, now, _)
    await reply_once(update, context, text, what="schedule")


@admin_only
async def list_schedules(update: Update, context: Context) -> None:
    """List the digest schedules with their next run, each in its own time zone."""
    user = update.effective_user
    _ = gettext_for(user.language_code if user else None)
    now = services(context).clock.utc()
    found = await services(context).store.schedules()
    if not found:
        text = _("No digest schedules yet. Add one: {example}")
        text = text.format(example=escape(schedules.EXAMPLE))
        await reply_once(update, context, text, what="schedules")
        return
    lines = ["🗓 <b>" + escape(_("Digest schedules")) + "</b>"]
    lines += [schedules.describe(schedule, now, _) for schedule in found]
    await reply_parts(update, context, lines, what="schedules", separator="\n\n")


@admin_only
async def remove_schedule(update: Update, context: Context) -> None:
    """Remove a digest schedule: /unschedule ID."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    args = context.args or []
    number = parse_number(args[0], marks="#") if len(args) == 1 else None
    schedule = await svc.store.schedule(number) if number is not None else None
    if schedule is None or schedule.is_default:
        if number is None:
            problem = UNSCHEDULE_USAGE
        else:
            problem = DEFAULT_SCHEDULE if schedule else NO_SUCH_SCHEDULE
        await svc.store.audit(user.id, "unschedule", result="refused", detail=" ".join(args))
        await reply_once(update, context, _(problem).format(id=number), what="unschedule")
        return
    if await svc.store.remove_schedule(schedule.id):
        await svc.store.audit(
            user.id,
            "unschedule",
            target=str(schedule.target_chat),
            detail=f"#{schedule.id} {schedule.cron} {schedule.timezone}",
        )
    schedules.unregister(context.application, schedule.id)
    text = _("Schedule #{id} removed: no more digests <code>{cron}</code> → {target}.").format(
        id=schedule.id, cron=escape(schedule.cron), target=schedules.target_name(schedule, _)
    )
    await reply_once(update, context, text, what="unschedule")


@admin_only
async def digest_now(update: Update, context: Context) -> None:
    """Send a digest now: to you (in private), or to the chat given as /digest @channel."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    refs, words = split_targets(context.args or [])
    try:
        if words or len(refs) > 1:
            raise Refusal(Problem(DIGEST_USAGE))
        where = await _destination(update, context, refs)
    except Refusal as exc:
        await svc.store.audit(user.id, "digest", result="refused", detail=" ".join(words))
        text = escape(exc.render(user.language_code))
        await reply_once(update, context, text, what="digest-reply")
        return
    now = svc.clock.utc()
    request = DigestRequest(
        None, where.chat_id, where.language, schedules.zone(_default_zone(svc)), now, now
    )
    _claimed, error = await send_digest(context, request, update_id=update.update_id)
    await svc.store.audit(
        user.id,
        "digest",
        target=str(where.chat_id),
        result="failed" if error else "ok",
        detail=error,
    )
    name = escape(where.name or str(where.chat_id))
    if error:
        text = _("The digest could not be sent to {target}: {reason}").format(
            target=name, reason=escape(error)
        )
        await reply_once(update, context, text, what="digest-reply")
    elif where.chat_id != chat.id:
        text = _("Digest sent to {target}.").format(target=name)
        await reply_once(update, context, text, what="digest-reply")
