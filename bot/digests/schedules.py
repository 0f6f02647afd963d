"""When digests are due: crontab expressions, their timezones, and the JobQueue jobs.

The JobQueue, the /schedules listing and the catch-up at start all use one trigger
(``DigestTrigger``, APScheduler's CronTrigger made crontab-exact), so they agree on every
due time, across daylight-saving changes too.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from telegram.ext import Application

from bot.admin.chats import split_targets
from bot.texts import N_, Gettext, Problem, Refusal, escape
from bot.validation import parse_number
from storage.digests import Schedule

log = logging.getLogger(__name__)

EXAMPLE = '/schedule "0 20 * * *" @mychannel Europe/Moscow'
USAGE = N_(
    "Give a cron expression in quotes, then optionally a @channel and a time zone, e.g. {example}"
)
FIELD_COUNT = N_(
    "“{cron}” has {count} fields, but a cron expression has 5: minute hour day month weekday, "
    'e.g. "0 20 * * *" for every day at 20:00.'
)
BAD_FIELD = N_(
    "The {field} field “{value}” of “{cron}” is not valid: use {allowed}, or * , - / "
    'as in "*/15", "1-5" or "1,15".'
)
BOTH_DAYS = N_("“{cron}” limits both the day of the month and the weekday: keep one of them as *.")
NEVER = N_("“{cron}” never comes: there is no such date. Check the day and the month.")
UNKNOWN_ZONE = N_(
    "Unknown time zone “{zone}”: use a tz database name such as Europe/Moscow, "
    "America/New_York or UTC."
)
UNBALANCED = N_("A quote is not closed: put the cron expression in quotes, e.g. {example}")
ONE_TARGET = N_("Give one @channel per schedule (send another /schedule for the next one).")
EXTRA_WORDS = N_(
    "Unexpected “{words}”: after the cron expression give at most a @channel and a time "
    "zone, e.g. {example}"
)

# (APScheduler field, what to call it, what it allows); crontab's order.
_FIELDS = (
    ("minute", N_("minute"), "0-59"),
    ("hour", N_("hour"), "0-23"),
    ("day", N_("day of the month"), "1-31"),
    ("month", N_("month"), N_("1-12 or jan-dec")),
    ("day_of_week", N_("weekday"), N_("0-7 (0 and 7 are Sunday) or sun-sat")),
)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_QUOTES = str.maketrans(dict.fromkeys("“”„«»", '"'))
_CRON_WORD = re.compile(r"^[0-9A-Za-z*?][0-9A-Za-z*?,/-]*$")
_ZONE_LIKE = re.compile(r"[A-Za-z]{2,}/[A-Za-z]")


class ScheduleError(Refusal):
    """A mistake in a schedule as an admin wrote it: its cron, time zone or words."""


class DigestTrigger(CronTrigger):  # type: ignore[misc]
    """A CronTrigger that, like crontab, runs a fixed-hour schedule once when clocks go back.

    APScheduler fires "30 1 * * *" twice on a fall-back night (01:30 summer time, then
    01:30 winter time); here the repeat is skipped unless the hour field is a wildcard.
    A spring-forward gap moves the run to the same instant after the jump (02:30 -> 03:30),
    so no day is skipped either.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire = self._next(previous_fire_time, now)
        while fire is not None and self._skipped(fire, previous_fire_time):
            previous_fire_time = fire
            fire = self._next(fire, fire)
        return fire

    def _next(self, previous: datetime | None, now: datetime) -> datetime | None:
        """CronTrigger's answer as a real local time (it may name a skipped 02:30)."""
        fire: datetime | None = super().get_next_fire_time(previous, now)
        return None if fire is None else fire.astimezone(UTC).astimezone(self.timezone)

    def _skipped(self, fire: datetime, previous: datetime | None) -> bool:
        # Compared in UTC: datetimes sharing a tzinfo compare by wall time.
        if previous is not None and fire.astimezone(UTC) <= previous.astimezone(UTC):
            return True
        hour = next(str(f) for f in self.fields if f.name == "hour")
        return not hour.startswith("*") and _second_pass(fire)


def _second_pass(moment: datetime) -> bool:
    """True for the second occurrence of a wall-clock time repeated when clocks go back."""
    local = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def zone(name: str) -> ZoneInfo:
    """The timezone called ``name``, or a ScheduleError saying what to write instead."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(Problem(UNKNOWN_ZONE, {"zone": name})) from None


def trigger(cron: str, timezone: str | tzinfo) -> DigestTrigger:
    """The trigger of a 5-field crontab expression (weekdays as crontab counts them)."""
    tz = zone(timezone) if isinstance(timezone, str) else timezone
    fields = cron.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(Problem(FIELD_COUNT, {"cron": cron, "count": len(fields)}))
    values: dict[str, str] = {}
    for (name, label, allowed), value in zip(_FIELDS, fields, strict=True):
        try:
            values[name] = _weekdays(value) if name == "day_of_week" else value
            CronTrigger(**{name: values[name]}, timezone=UTC)
        except ValueError:
            params = {"field": label, "value": value, "cron": cron, "allowed": allowed}
            raise ScheduleError(Problem(BAD_FIELD, params), ("field", "allowed")) from None
    if values["day"] != "*" and values["day_of_week"] != "*":
        # crontab runs when either matches, APScheduler only when both do: refuse rather
        # than run on other days than the admin expects.
        raise ScheduleError(Problem(BOTH_DAYS, {"cron": cron}))
    return DigestTrigger(**values, timezone=tz)


def _weekdays(value: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday) as APScheduler day names (0 = Monday)."""
    if value == "*":
        return "*"
    days: set[int] = set()
    for part in value.lower().split(","):
        span, slash, step_text = part.partition("/")
        step = parse_number(step_text) or 0
        if slash and not step:
            raise ValueError(f"bad step in {part!r}")
        first, dash, last = span.partition("-")
        if span == "*":
            low, high = 0, 6
        else:
            low = _day(first)
            high = _day(last) if dash else (6 if slash else low)
        if low > high:
            raise ValueError(f"backward range {span!r}")
        days.update(day % 7 for day in range(low, high + 1, step or 1))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day(token: str) -> int:
    number = parse_number(token)
    if number is not None and number <= 7:
        return number
    if token in _DAYS:
        return _DAYS.index(token)
    raise ValueError(f"not a weekday: {token!r}")


def next_due(rule: DigestTrigger, now: datetime) -> datetime | None:
    """The first due time after ``now``, in UTC."""
    found = _first_after(rule, now)
    return None if found is None else found.astimezone(UTC)


def _first_after(rule: DigestTrigger, moment: datetime) -> datetime | None:
    found: datetime | None = rule.get_next_fire_time(None, moment + timedelta(microseconds=1))
    return found


def due_times(rule: DigestTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Every due time in (after, until], oldest first, in UTC.

    (UTC because an aware datetime in a repeated hour never compares equal to another
    zone's, by Python's rules, even when it names the same instant.)
    """
    found: list[datetime] = []
    fire = _first_after(rule, after)
    while fire is not None and fire <= until:
        found.append(fire.astimezone(UTC))
        fire = rule.get_next_fire_time(fire, fire)
    return found


def last_due(rule: DigestTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The latest due time in (now - within, now]: the one digest a catch-up sends."""
    times = due_times(rule, now - within, now)
    return times[-1] if times else None


def check(cron: str, timezone: str, now: datetime) -> DigestTrigger:
    """Validate a schedule as an admin typed it; ScheduleError says what to fix."""
    rule = trigger(cron, zone(timezone))
    if next_due(rule, now) is None:
        raise ScheduleError(Problem(NEVER, {"cron": cron}))
    return rule


def when(moment: datetime, timezone: str | tzinfo) -> str:
    """A due time as a reader in ``timezone`` sees it: "2025-06-01 20:00 MSK"."""
    tz = zone(timezone) if isinstance(timezone, str) else timezone
    return moment.astimezone(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """What /schedule was given: the cron text, maybe a chat and maybe a time zone."""

    cron: str
    ref: str | None = None
    zone: str | None = None


def parse_request(text: str) -> ScheduleRequest:
    """Split `"0 20 * * *" @channel Europe/Moscow` (the quotes may be left out)."""
    try:
        tokens = shlex.split(text.translate(_QUOTES))
    except ValueError:
        raise ScheduleError(Problem(UNBALANCED, {"example": EXAMPLE})) from None
    if tokens and len(tokens[0].split()) > 1:
        cron, rest = " ".join(tokens[0].split()), tokens[1:]
    else:
        count = 0
        while (
            count < len(tokens)
            and _cron_word(tokens[count])
            and (count < len(_FIELDS) or not tokens[count].isalpha())
        ):
            count += 1
        cron, rest = " ".join(tokens[:count]), tokens[count:]
    if not cron:
        raise ScheduleError(Problem(USAGE, {"example": EXAMPLE}))
    refs, words = split_targets(rest)
    if len(refs) > 1:
        raise ScheduleError(Problem(ONE_TARGET))
    if len(words) > 1:
        raise ScheduleError(
            Problem(EXTRA_WORDS, {"words": " ".join(words[1:]), "example": EXAMPLE})
        )
    return ScheduleRequest(cron, refs[0] if refs else None, words[0] if words else None)


def _cron_word(token: str) -> bool:
    return bool(_CRON_WORD.match(token)) and not _ZONE_LIKE.search(token)


def target_name(schedule: Schedule, _: Gettext) -> str:
    """Where a schedule sends, as HTML."""
    return escape(schedule.target_name or _("private chat {id}").format(id=schedule.target_chat))


def stored_trigger(schedule: Schedule) -> DigestTrigger | None:
    """A stored schedule's trigger; None (and logged) when it cannot run any more, its
    time zone renamed or dropped by a tz database update since it was stored."""
    try:
        return trigger(schedule.cron, schedule.timezone)
    except ScheduleError as exc:
        log.error("schedule %s cannot run: %s", schedule.id, exc.render("en"))
        return None


def describe(schedule: Schedule, now: datetime, _: Gettext) -> str:
    """A schedule as /schedules lists it, with its next run in its own time zone."""
    rule = stored_trigger(schedule)
    due = next_due(rule, now) if rule else None
    when_text = when(due, schedule.timezone) if due else "—"
    origin = " · " + _("from the config") if schedule.is_default else ""
    return (
        f"#{schedule.id} <code>{escape(schedule.cron)}</code> · "
        f"{escape(schedule.timezone)} → {target_name(schedule, _)}{origin}\n"
        "    " + _("next: {when}").format(when=when_text)
    )


# -- JobQueue ---------------------------------------------------------------------------

JobCallback = Callable[[Any], Coroutine[Any, Any, None]]


def job_name(schedule_id: int) -> str:
    return f"digest:{schedule_id}"


def register(
    application: Application[Any, Any, Any, Any, Any, Any],
    schedule: Schedule,
    callback: JobCallback,
    *,
    grace: timedelta,
) -> None:
    """(Re)register a schedule's job; a run late by less than ``grace`` still happens.

    A schedule that cannot run any more (see stored_trigger) gets no job."""
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    unregister(application, schedule.id)
    rule = stored_trigger(schedule)
    if rule is None:
        return
    late = max(int(grace.total_seconds()), 60)
    jobs.run_custom(
        callback,
        job_kwargs={
            "trigger": rule,
            "misfire_grace_time": late,
            "coalesce": True,
        },
        data=schedule.id,
        name=job_name(schedule.id),
    )


def unregister(application: Application[Any, Any, Any, Any, Any, Any], schedule_id: int) -> None:
    if application.job_queue is None:
        return
    for job in application.job_queue.get_jobs_by_name(job_name(schedule_id)):
        job.schedule_removal()
