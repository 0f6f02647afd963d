"""What a poll is before it is sent, and the Telegram rules (Bot API 10.0) it must satisfy.

``validate`` lists every mistake with a message that says what to fix, ``send_kwargs``
turns a valid spec into the keyword arguments of ``Bot.send_poll``, and ``spec_from_mapping``
reads the ``[poll]`` table of an article file. ``parse_duration`` and ``parse_moment`` read
open periods and close dates, here and in /newpoll.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import babel
import msgspec
from telegram import InputPollOption
from telegram.constants import PollLimit, PollType

from bot.texts import N_, Problem, telegram_length
from bot.validation import Invalid, parse_number, shaped

MAX_QUESTION = int(PollLimit.MAX_QUESTION_LENGTH)
MIN_OPTIONS = int(PollLimit.MIN_OPTION_NUMBER)
MAX_OPTIONS = int(PollLimit.MAX_OPTION_NUMBER)
MAX_OPTION = int(PollLimit.MAX_OPTION_LENGTH)
MAX_EXPLANATION = int(PollLimit.MAX_EXPLANATION_LENGTH)
MAX_EXPLANATION_LINE_FEEDS = int(PollLimit.MAX_EXPLANATION_LINE_FEEDS)
MIN_OPEN_PERIOD = int(PollLimit.MIN_OPEN_PERIOD)
MAX_OPEN_PERIOD = int(PollLimit.MAX_OPEN_PERIOD)
MAX_DESCRIPTION = int(PollLimit.MAX_DESCRIPTION_CHARACTERS)

# The messages of ``validate``; tests and callers may compare ``Problem.message`` with these.
QUESTION_EMPTY = N_("The poll question is empty: write a question of 1 to {max} characters.")
QUESTION_TOO_LONG = N_(
    "The poll question is {length} characters long: shorten it to {max} characters at most."
)
NO_OPTIONS = N_("The poll has no options: add 1 to {max} answer options.")
TOO_MANY_OPTIONS = N_(
    "The poll has {count} options but Telegram allows {max}: remove {extra} of them."
)
OPTION_EMPTY = N_("Option {number} is empty: write 1 to {max} characters or remove it.")
OPTION_TOO_LONG = N_(
    "Option {number} is {length} characters long: shorten it to {max} characters at most."
)
OPTION_DUPLICATE = N_(
    "Option {number} repeats option {first} (“{text}”): make every option different."
)
PUBLIC_IN_CHANNEL = N_(
    "Polls in channels are always anonymous: make this poll anonymous to post it to a channel."
)
QUIZ_NO_CORRECT = N_("A quiz needs a correct answer: mark which option is right.")
QUIZ_CORRECT_MISSING = N_(
    "Correct option {number} does not exist: the poll has options 1 to {count}."
)
QUIZ_MANY_CORRECT = N_(
    "This quiz marks {count} correct options: keep one, or allow multiple answers."
)
CORRECT_WITHOUT_QUIZ = N_("Only a quiz has correct options: remove them or make the poll a quiz.")
EXPLANATION_WITHOUT_QUIZ = N_(
    "Only a quiz shows an explanation: remove it or make the poll a quiz."
)
EXPLANATION_TOO_LONG = N_(
    "The explanation is {length} characters long: shorten it to {max} characters at most."
)
EXPLANATION_LINE_FEEDS = N_(
    "The explanation has {count} line breaks: Telegram allows {max} at most."
)
DESCRIPTION_TOO_LONG = N_(
    "The description is {length} characters long: shorten it to {max} characters at most."
)
PERIOD_AND_DATE = N_("The poll has both an open period and a close date: keep only one of them.")
PERIOD_OUT_OF_RANGE = N_(
    "The open period is {seconds} seconds: it must be {min} to {max} seconds "
    "(up to about 30 days)."
)
CLOSE_DATE_NAIVE = N_(
    "The close date has no time zone: give it with an offset, like 2025-06-01T18:00:00+03:00."
)
CLOSE_DATE_PAST = N_(
    "The close date has already passed: choose a time at least {min} seconds ahead."
)
CLOSE_DATE_TOO_SOON = N_(
    "The close date is {seconds} seconds from now: it must be at least {min} seconds ahead."
)
CLOSE_DATE_TOO_LATE = N_(
    "The close date is {seconds} seconds from now: it must be at most {max} seconds "
    "(about 30 days) ahead."
)
REMIND_TOO_LATE = N_(
    "The reminder would come {remind} seconds before the close, but the poll is open only "
    "{life} seconds: remind later (a shorter remind=) or turn it off with remind=off."
)
ADDING_TO_ANONYMOUS = N_(
    "Voters can add options only to a public poll: make it public or turn off adding options."
)
ADDING_TO_QUIZ = N_("Voters cannot add options to a quiz: turn off adding options.")
MEMBERS_ONLY_NOT_CHANNEL = N_(
    "Only channel polls can be limited to members: send it to a channel or turn that off."
)
COUNTRIES_NOT_CHANNEL = N_(
    "Only channel polls can be limited to countries: send it to a channel or remove them."
)
TOO_MANY_COUNTRIES = N_(
    "The poll names {count} countries but Telegram allows {max}: remove {extra} of them."
)
BAD_COUNTRY = N_(
    "“{code}” is not a country code: use two-letter ISO codes like RU or KZ "
    "(FT: anonymous numbers)."
)
MAX_COUNTRIES = 12  # sendPoll's country_codes: 0-12 two-letter ISO 3166-1 alpha-2 codes
# CLDR's regions that are not countries of ISO 3166-1 (the EU, the UN, pseudo-regions...)
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "XK", "ZZ"})
_ANONYMOUS_NUMBERS = "FT"  # Telegram's own code for anonymous numbers (Fragment)


@functools.cache
def _countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes (CLDR's two-letter regions, by babel), and FT."""
    regions = babel.Locale("en").territories
    codes = {code for code in regions if isinstance(code, str) and len(code) == 2}
    codes = {code for code in codes if code.isalpha()}
    return frozenset(codes - _NOT_COUNTRIES | {_ANONYMOUS_NUMBERS})


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A native poll as the bot will send it; option and correct ids are 0-based.

    ``allows_revoting`` is sent as given: the Bot API's own default is False for quizzes,
    and ``spec_from_mapping`` follows that default.
    """

    question: str
    options: tuple[str, ...]
    allows_multiple_answers: bool = False
    is_anonymous: bool = True
    quiz: bool = False
    correct_option_ids: tuple[int, ...] = ()
    explanation: str | None = None
    open_period: int | None = None
    close_date: datetime | None = None
    hide_results_until_closes: bool = False
    shuffle_options: bool = False
    allow_adding_options: bool = False
    allows_revoting: bool = True
    description: str | None = None
    members_only: bool = False  # channels only: members of more than 24 hours may vote
    country_codes: tuple[str, ...] = ()  # channels only: voters from these countries
    # What the bot does around the poll (not sent to Telegram):
    final_post: bool = True  # post the final result in each chat when it closes
    remind_before: int | None = None  # seconds; None: [polls] remind_before; 0: none


class ContentError(Invalid):
    """A mistake in a content file: which file, which field, and what is wrong."""


def validate(spec: PollSpec, *, in_channel: bool | None, now: datetime) -> list[Problem]:
    """Every rule ``spec`` breaks, in the order a person would fix them (``now`` is aware).

    ``in_channel`` None: the target is not known yet (an article's poll, checked when it
    loads): the rules of one kind of chat are left to the send, the others are checked."""
    problems = _question_problems(spec) + _option_problems(spec)
    if in_channel and not spec.is_anonymous:
        problems.append(Problem(PUBLIC_IN_CHANNEL))
    problems += _quiz_problems(spec) + _text_problems(spec) + _timing_problems(spec, now)
    if spec.allow_adding_options and spec.quiz:
        problems.append(Problem(ADDING_TO_QUIZ))
    elif spec.allow_adding_options and spec.is_anonymous:
        problems.append(Problem(ADDING_TO_ANONYMOUS))
    return problems + _channel_problems(spec, in_channel)


def _channel_problems(spec: PollSpec, in_channel: bool | None) -> list[Problem]:
    """members_only and country_codes: for channel chats only; 0-12 two-letter codes."""
    problems: list[Problem] = []
    if spec.members_only and in_channel is False:
        problems.append(Problem(MEMBERS_ONLY_NOT_CHANNEL))
    if spec.country_codes and in_channel is False:
        problems.append(Problem(COUNTRIES_NOT_CHANNEL))
    count = len(spec.country_codes)
    if count > MAX_COUNTRIES:
        extra = count - MAX_COUNTRIES
        problems.append(
            Problem(TOO_MANY_COUNTRIES, {"count": count, "max": MAX_COUNTRIES, "extra": extra})
        )
    problems += [
        Problem(BAD_COUNTRY, {"code": code})
        for code in spec.country_codes
        if code not in _countries()
    ]
    return problems


def _question_problems(spec: PollSpec) -> list[Problem]:
    length = telegram_length(spec.question)
    if not spec.question.strip():
        return [Problem(QUESTION_EMPTY, {"max": MAX_QUESTION})]
    if length > MAX_QUESTION:
        return [Problem(QUESTION_TOO_LONG, {"length": length, "max": MAX_QUESTION})]
    return []


def _option_problems(spec: PollSpec) -> list[Problem]:
    count = len(spec.options)
    problems: list[Problem] = []
    if count < MIN_OPTIONS:
        problems.append(Problem(NO_OPTIONS, {"max": MAX_OPTIONS}))
    elif count > MAX_OPTIONS:
        problems.append(
            Problem(
                TOO_MANY_OPTIONS,
                {"count": count, "max": MAX_OPTIONS, "extra": count - MAX_OPTIONS},
            )
        )
    first_seen: dict[str, int] = {}
    for number, option in enumerate(spec.options, start=1):
        length = telegram_length(option)
        key = " ".join(option.casefold().split())
        if not key:
            problems.append(Problem(OPTION_EMPTY, {"number": number, "max": MAX_OPTION}))
        elif length > MAX_OPTION:
            problems.append(
                Problem(OPTION_TOO_LONG, {"number": number, "length": length, "max": MAX_OPTION})
            )
        if key and key in first_seen:
            problems.append(
                Problem(
                    OPTION_DUPLICATE,
                    {"number": number, "first": first_seen[key], "text": option.strip()},
                )
            )
        first_seen.setdefault(key, number)
    return problems


def _quiz_problems(spec: PollSpec) -> list[Problem]:
    if not spec.quiz:
        return [Problem(CORRECT_WITHOUT_QUIZ)] if spec.correct_option_ids else []
    correct = sorted(set(spec.correct_option_ids))
    if not correct:
        return [Problem(QUIZ_NO_CORRECT)]
    problems = [
        Problem(QUIZ_CORRECT_MISSING, {"number": index + 1, "count": len(spec.options)})
        for index in correct
        if not 0 <= index < len(spec.options)
    ]
    if len(correct) > 1 and not spec.allows_multiple_answers:
        problems.append(Problem(QUIZ_MANY_CORRECT, {"count": len(correct)}))
    return problems


def _text_problems(spec: PollSpec) -> list[Problem]:
    problems: list[Problem] = []
    if spec.explanation is not None:
        length = telegram_length(spec.explanation)
        line_feeds = spec.explanation.count("\n")
        if not spec.quiz:
            problems.append(Problem(EXPLANATION_WITHOUT_QUIZ))
        elif length > MAX_EXPLANATION:
            problems.append(
                Problem(EXPLANATION_TOO_LONG, {"length": length, "max": MAX_EXPLANATION})
            )
        if spec.quiz and line_feeds > MAX_EXPLANATION_LINE_FEEDS:
            problems.append(
                Problem(
                    EXPLANATION_LINE_FEEDS,
                    {"count": line_feeds, "max": MAX_EXPLANATION_LINE_FEEDS},
                )
            )
    if spec.description is not None:
        length = telegram_length(spec.description)
        if length > MAX_DESCRIPTION:
            problems.append(
                Problem(DESCRIPTION_TOO_LONG, {"length": length, "max": MAX_DESCRIPTION})
            )
    return problems


def _timing_problems(spec: PollSpec, now: datetime) -> list[Problem]:
    limits = {"min": MIN_OPEN_PERIOD, "max": MAX_OPEN_PERIOD}
    problems: list[Problem] = []
    if spec.open_period is not None and spec.close_date is not None:
        problems.append(Problem(PERIOD_AND_DATE))
    if spec.open_period is not None and not (
        MIN_OPEN_PERIOD <= spec.open_period <= MAX_OPEN_PERIOD
    ):
        problems.append(Problem(PERIOD_OUT_OF_RANGE, {"seconds": spec.open_period, **limits}))
    if spec.close_date is not None:
        if spec.close_date.utcoffset() is None:
            problems.append(Problem(CLOSE_DATE_NAIVE))
        else:
            ahead = int((spec.close_date - now).total_seconds())
            if ahead <= 0:
                problems.append(Problem(CLOSE_DATE_PAST, dict(limits)))
            elif ahead < MIN_OPEN_PERIOD:
                problems.append(Problem(CLOSE_DATE_TOO_SOON, {"seconds": ahead, **limits}))
            elif ahead > MAX_OPEN_PERIOD:
                problems.append(Problem(CLOSE_DATE_TOO_LATE, {"seconds": ahead, **limits}))
    return problems + _remind_problems(spec, now)


def _remind_problems(spec: PollSpec, now: datetime) -> list[Problem]:
    """A reminder must come after the poll is posted: before its close, within its life."""
    life = spec.open_period
    if life is None and spec.close_date is not None and spec.close_date.utcoffset() is not None:
        life = int((spec.close_date - now).total_seconds())
    remind = spec.remind_before
    if not remind or life is None or remind < life:
        return []
    return [Problem(REMIND_TOO_LATE, {"remind": remind, "life": life})]


def send_kwargs(spec: PollSpec) -> dict[str, Any]:
    """The keyword arguments of ``Bot.send_poll`` (all but ``chat_id``) for a valid spec.

    Texts are sent as plain text: the parse modes are set to None explicitly, so a
    ``Defaults(parse_mode=...)`` of the application cannot turn a ``<`` into markup.
    """
    kwargs: dict[str, Any] = {
        "question": spec.question,
        "question_parse_mode": None,
        "options": [InputPollOption(text, text_parse_mode=None) for text in spec.options],
        "is_anonymous": spec.is_anonymous,
        "type": PollType.QUIZ.value if spec.quiz else PollType.REGULAR.value,
        "allows_multiple_answers": spec.allows_multiple_answers,
        "allows_revoting": spec.allows_revoting,
        "shuffle_options": spec.shuffle_options,
        "allow_adding_options": spec.allow_adding_options,
        "hide_results_until_closes": spec.hide_results_until_closes,
    }
    if spec.quiz:
        kwargs["correct_option_ids"] = sorted(set(spec.correct_option_ids))
        if spec.explanation is not None:
            kwargs["explanation"] = spec.explanation
            kwargs["explanation_parse_mode"] = None
    if spec.description is not None:
        kwargs["description"] = spec.description
        kwargs["description_parse_mode"] = None
    if spec.members_only:
        kwargs["members_only"] = True
    if spec.country_codes:
        kwargs["country_codes"] = list(spec.country_codes)
    if spec.open_period is not None:
        kwargs["open_period"] = spec.open_period
    if spec.close_date is not None:
        kwargs["close_date"] = spec.close_date
    return kwargs


class PollTable(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The shape of the ``[poll]`` table of an article file (msgspec checks it)."""

    question: str
    options: list[str]
    correct_options: int | list[int] = msgspec.field(default_factory=list)  # counted from 1
    open_period: int | str | None = None  # seconds, or a duration like "1d12h"
    close_date: Any = None  # a TOML date-time or its text, read by parse_moment
    explanation: str | None = None
    description: str | None = None
    multiple_answers: bool = False
    anonymous: bool = True
    quiz: bool = False
    hide_results: bool = False
    shuffle: bool = False
    allow_adding_options: bool = False
    revoting: bool | None = None  # default: the Bot API's (on for polls, off for quizzes)
    members_only: bool = False  # channels only
    country_codes: list[str] = msgspec.field(default_factory=list)  # channels only
    final: bool = True  # post the final result in each chat when the poll closes
    remind_before: int | str | None = None  # seconds or a duration: remind before it closes


DURATION_HINT = 'seconds or a duration like "2d", "12h", "30m", "1d12h"'
_DURATION = re.compile(r"([0-9]{1,9})\s*(дн|д|ч|мин|м|сек|с|d|h|min|m|sec|s)")
_UNITS = {
    **{"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1},
    **{"д": 86400, "дн": 86400, "ч": 3600, "м": 60, "мин": 60, "с": 1, "сек": 1},
}
_DATE_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%Y %H:%M%z")


def parse_duration(text: str) -> int | None:
    """Seconds in "90", "2d", "12h", "30m", "1d 12h" or "2д 3ч" (any case); None otherwise."""
    folded = text.strip().casefold()
    seconds = parse_number(folded)
    if seconds is not None:
        return seconds
    if not folded or _DURATION.sub("", folded).strip():
        return None
    return sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(folded))


def parse_moment(text: str) -> datetime | None:
    """A date and time as ISO 8601 ("2026-12-01T18:00", a space for the T, an offset or
    not) or as 01.12.2026 [18:00]; naive when no offset is given, None if unreadable."""
    value = text.strip()
    try:
        return datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def spec_from_mapping(data: Mapping[str, Any], where: str, *, field: str = "poll") -> PollSpec:
    """Read a poll table of a content file (``correct_options`` counts from 1 there).

    Raises ContentError naming ``where`` (the file) and ``field.key`` for the first key that
    is unknown, missing or of the wrong type. Telegram's rules are checked by ``validate``;
    a public poll (``anonymous = false``, with ``allow_adding_options`` or not) is allowed
    here, and refused at send time for each channel it would go to.
    """
    table = shaped(data, PollTable, path=where, prefix=field, error=ContentError)

    def error(key: str, message: str) -> ContentError:
        return ContentError(message, path=where, field=f"{field}.{key}")

    numbers = table.correct_options
    correct = [numbers] if isinstance(numbers, int) else numbers
    if not all(n >= 1 for n in correct):
        raise error("correct_options", "must be a list of option numbers counted from 1")
    period = _seconds(table.open_period, "open_period", error)
    remind = _seconds(table.remind_before, "remind_before", error)
    return PollSpec(
        question=table.question,
        options=tuple(table.options),
        allows_multiple_answers=table.multiple_answers,
        is_anonymous=table.anonymous,
        quiz=table.quiz,
        correct_option_ids=tuple(n - 1 for n in correct),
        explanation=table.explanation,
        open_period=period,
        close_date=_close_date(table.close_date, error),
        hide_results_until_closes=table.hide_results,
        shuffle_options=table.shuffle,
        allow_adding_options=table.allow_adding_options,
        # The Bot API's default: revoting is on for regular polls, off for quizzes.
        allows_revoting=not table.quiz if table.revoting is None else table.revoting,
        description=table.description,
        members_only=table.members_only,
        country_codes=tuple(code.strip().upper() for code in table.country_codes),
        final_post=table.final,
        remind_before=remind,
    )


def _seconds(
    value: int | str | None, key: str, error: Callable[[str, str], ContentError]
) -> int | None:
    """Seconds given as a number or a duration like "1d12h"."""
    if not isinstance(value, str):
        return value
    seconds = parse_duration(value)
    if seconds is None:
        raise error(key, f"must be {DURATION_HINT}")
    return seconds


def _close_date(value: Any, error: Callable[[str, str], ContentError]) -> datetime | None:
    if value is None:
        return None
    moment = parse_moment(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise error(
            "close_date", "must be an ISO 8601 time with an offset, like 2025-06-01T18:00:00+03:00"
        )
    return moment
