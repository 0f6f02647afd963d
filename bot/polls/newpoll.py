"""Asking for a poll: the /newpoll syntax, and the checks a request passes before sending.

    /newpoll Best car? | Lada | Moskvich | multi public 2d @group

Parts are separated by ``|`` (or, without any ``|``, by line breaks). The first part is the
question, the next ones the options, and the last part holds the settings when one of its
words is a setting or a chat (or looks like a duration: ``1y``); then every word of it must be
one, and an unknown word is a Problem naming it with the nearest setting. A trailing ``|``
says "no settings" (for an option such as "Public transport" at the end). Durations add up
(``2d 3h``). An option that is only a chat (``@chan``, ``-100…``) is refused. Settings are
case-insensitive and have Russian names too; see ``HELP``. ``parse`` never raises: what it
cannot read becomes a Problem.

``check_targets`` (used by /newpoll and /poll) resolves the target chats and checks the
user's rights and Telegram's rules in every one of them, so that a refused request sends
nothing at all.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from telegram.ext import CallbackContext

from bot.admin.auth import may_manage, target_refs
from bot.admin.chats import Target, resolve_targets
from bot.config import is_chat_ref
from bot.polls.spec import PUBLIC_IN_CHANNEL, PollSpec, parse_duration, parse_moment, validate
from bot.services import services
from bot.texts import N_, Gettext, Problem, escape, gettext_for
from bot.validation import parse_number

Context = CallbackContext[Any, Any, Any, Any]

HELP = N_(
    "<b>/newpoll Question? | option 1 | option 2 | settings</b>\n"
    "Options go between <code>|</code> (or one per line). The last part holds settings, "
    "in any order, any case:\n"
    "• <code>multi</code> — several answers\n"
    "• <code>public</code> — show who voted (groups only; channel polls are anonymous)\n"
    "• <code>quiz=2</code> — a quiz, option 2 is right (<code>quiz=1,3</code> with multi); "
    "<code>why=text</code> — its explanation\n"
    "• <code>2d</code>, <code>12h</code>, <code>30m</code> — open for that long, or "
    "<code>close=2026-12-01T18:00</code> — until then (bot time zone unless you add "
    "<code>+03:00</code>)\n"
    "• <code>hide</code> — results hidden until the poll closes\n"
    "• <code>shuffle</code> — options in random order\n"
    "• <code>addable</code> — voters may add options (public polls, not quizzes)\n"
    "• <code>desc=text</code> — a description (after the other settings, or in quotes)\n"
    "• <code>nofinal</code> — no final result post in the chats when it closes "
    "(<code>final</code>: post it, the default)\n"
    "• <code>remind=1h</code> (<code>30m</code>, <code>1d</code>) — remind each chat "
    "before it closes\n"
    "• <code>members</code> — only channel members of more than a day may vote; "
    "<code>countries=RU,KZ</code> — only voters from these countries (channels only)\n"
    "• <code>@channel</code> or a chat id — where to send (default: the default channels)\n"
    "• <code>now</code> — publish at once, without the preview\n"
    "Example: <code>/newpoll Best car? | Lada | Moskvich | multi public 2d @mygroup</code>\n"
    "Durations add up: <code>1d 12h</code>. End with <code>|</code> if your last option "
    "has a setting word in it."
)
UNKNOWN_SETTING = N_("Unknown setting “{word}”: send /newpoll to see the settings.")
UNKNOWN_SETTING_NEAR = N_("Unknown setting “{word}”: did you mean “{nearest}”?")
OPTION_NEEDS_BAR = N_(
    "If “{part}” is an option and not settings, end the message with | after it."
)
OPTION_IS_A_CHAT = N_(
    "Option {number} (“{text}”) is a chat, not an answer: name chats at the end, "
    "with the settings."
)
BAD_CORRECT = N_("“{word}”: give the right options by number, like quiz=2 or quiz=1,3.")
BAD_DURATION = N_("“{word}”: give a duration like 2d, 12h, 30m or 1d12h.")
BAD_CLOSE_DATE = N_(
    "“{word}”: give the close date like close=2026-12-01T18:00 or close=01.12.2026 18:00."
)
EMPTY_TEXT = N_("“{word}”: write the text after the = sign.")
REMIND_OFF = frozenset({"0", "off", "no", "нет", "выкл"})  # remind=off: no reminder at all
BAD_REMIND = N_("“{word}”: give the time before the close like remind=1h, 30m or 1d.")
BAD_COUNTRIES = N_("“{word}”: give two-letter country codes like countries=RU,KZ.")

_WORDS: dict[str, frozenset[str]] = {
    "multi": frozenset({"multi", "multiple", "мульти", "несколько"}),
    "public": frozenset({"public", "публичный", "публично", "неанонимный", "неанонимно"}),
    "anonymous": frozenset({"anon", "anonymous", "анонимный", "анонимно"}),
    "quiz": frozenset({"quiz", "викторина"}),
    "hide": frozenset({"hide", "hidden", "скрыть", "скрытый", "скрыто"}),
    "shuffle": frozenset({"shuffle", "перемешать", "вперемешку"}),
    "addable": frozenset({"addable", "добавлять", "дополнять"}),
    "final": frozenset({"final", "итог", "итоги"}),
    "nofinal": frozenset({"nofinal", "безитога", "без_итога"}),
    "members": frozenset({"members", "members_only", "подписчики", "участники"}),
}
_KEYS: dict[str, frozenset[str]] = {
    "quiz": _WORDS["quiz"] | {"correct", "answer", "ответ", "верный", "правильный"},
    "period": frozenset({"period", "срок"}),
    "close": frozenset({"close", "until", "закрыть", "до"}),
    "desc": frozenset({"desc", "description", "описание"}),
    "why": frozenset({"why", "explanation", "пояснение"}),
    "remind": frozenset({"remind", "reminder", "напомнить", "напоминание"}),
    "countries": frozenset({"countries", "country", "страны", "страна"}),
}
_NOW = frozenset({"now", "сейчас"})  # publish at once, without a preview
_TEXT_KEYS = ("desc", "why")
NEAR = 0.75  # how close (difflib's ratio) a lone word must be to a setting to be a typo of it
_PAIR = re.compile(r"([^\s=]+)\s*=\s*")
_QUOTED = re.compile(r'"([^"]*)"|«([^»]*)»|“([^”]*)”|„([^“”]*)[“”]')
_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|z)?$", re.IGNORECASE)
_TME = re.compile(r"^(?:https?://)?t\.me/([A-Za-z][A-Za-z0-9_]{3,31})/?$")
# A number with a unit-like tail ("1y", "5w"): meant as a duration, never an option.
_DURATION_LIKE = re.compile(r"(\d+[^\W\d_]{1,3})+")


@dataclass(frozen=True, slots=True)
class NewPoll:
    """What a /newpoll message asks for: the poll, its target chats, and reading mistakes."""

    spec: PollSpec
    targets: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    now: bool = False  # ``now`` among the settings: publish without a preview


_T = TypeVar("_T")


@dataclass(slots=True)
class _Settings:
    multi: bool = False
    public: bool = False
    quiz: bool = False
    correct: tuple[int, ...] | None = None  # counted from 1, as typed
    period: int | None = None
    close: datetime | None = None
    desc: str | None = None
    why: str | None = None
    hide: bool = False
    shuffle: bool = False
    addable: bool = False
    now: bool = False
    final: bool | None = None
    remind: int | None = None
    members: bool = False
    countries: tuple[str, ...] = ()
    targets: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def command_text(text: str) -> str:
    """The text after ``/newpoll`` (or ``/newpoll@bot``), line breaks kept."""
    parts = text.split(maxsplit=1)
    if parts and parts[0].startswith("/"):
        return parts[1] if len(parts) > 1 else ""
    return text


def parse(text: str, timezone: tzinfo) -> NewPoll:
    """Read the text after /newpoll; naive close dates are in ``timezone``."""
    parts = _parts(text)
    settings = _Settings()
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    elif len(parts) > 1 and _is_settings(parts[-1]):
        _read_settings(parts.pop(), settings, timezone)
    question = parts[0] if parts else ""
    options = tuple(parts[1:])
    chats = [
        Problem(OPTION_IS_A_CHAT, {"number": number, "text": option})
        for number, option in enumerate(options, start=1)
        if _target(option)
    ]
    spec = _spec(question, options, settings)
    return NewPoll(spec, tuple(settings.targets), (*chats, *settings.problems), settings.now)


def with_settings(base: PollSpec, text: str, timezone: tzinfo) -> NewPoll:
    """``base`` (its question, options and settings) with the settings (and chats) of
    ``text`` laid over it, read as the settings part of /newpoll (/repost): what ``text``
    does not name stays as in ``base``."""
    settings = _Settings()
    if text.strip():
        _read_settings(text, settings, timezone)
    given = _spec(base.question, base.options, settings)
    timed = settings.period is not None or settings.close is not None
    quiz = settings.quiz or settings.correct is not None
    spec = dataclasses.replace(
        given,
        allows_multiple_answers=given.allows_multiple_answers or base.allows_multiple_answers,
        is_anonymous=given.is_anonymous and base.is_anonymous,
        quiz=given.quiz or base.quiz,
        correct_option_ids=given.correct_option_ids if quiz else base.correct_option_ids,
        explanation=_either(given.explanation, base.explanation),
        open_period=given.open_period if timed else base.open_period,
        close_date=given.close_date if timed else base.close_date,
        hide_results_until_closes=given.hide_results_until_closes
        or base.hide_results_until_closes,
        shuffle_options=given.shuffle_options or base.shuffle_options,
        allow_adding_options=given.allow_adding_options or base.allow_adding_options,
        allows_revoting=given.allows_revoting if quiz else base.allows_revoting,
        description=_either(given.description, base.description),
        members_only=given.members_only or base.members_only,
        country_codes=given.country_codes or base.country_codes,
        final_post=base.final_post if settings.final is None else settings.final,
        remind_before=_either(settings.remind, base.remind_before),
    )
    return NewPoll(spec, tuple(settings.targets), tuple(settings.problems))


def _either(given: _T | None, base: _T | None) -> _T | None:
    return base if given is None else given


def _parts(text: str) -> list[str]:
    body = text.strip()
    if "|" in body:
        return [part.strip() for part in body.split("|")]
    return [line.strip() for line in body.splitlines() if line.strip()]


def _spec(question: str, options: tuple[str, ...], settings: _Settings) -> PollSpec:
    quiz = settings.quiz or settings.correct is not None
    return PollSpec(
        question=question,
        options=options,
        allows_multiple_answers=settings.multi,
        is_anonymous=not settings.public,
        quiz=quiz,
        correct_option_ids=tuple(n - 1 for n in settings.correct or ()),
        explanation=settings.why,
        open_period=settings.period,
        close_date=settings.close,
        hide_results_until_closes=settings.hide,
        shuffle_options=settings.shuffle,
        allow_adding_options=settings.addable,
        # The Bot API's default: revoting is on for regular polls, off for quizzes.
        allows_revoting=not quiz,
        description=settings.desc,
        members_only=settings.members,
        country_codes=settings.countries,
        final_post=True if settings.final is None else settings.final,
        remind_before=settings.remind,
    )


def _fold(word: str) -> str:
    return word.casefold().replace("ё", "е")


def _key_of(name: str) -> str | None:
    folded = _fold(name)
    return next((key for key, names in _KEYS.items() if folded in names), None)


def _word_of(word: str) -> str | None:
    folded = _fold(word)
    return next((key for key, names in _WORDS.items() if folded in names), None)


def _target(word: str) -> str | None:
    """The chat a word names: a t.me link, ``@username``, or a group or channel id (a
    number from -1000 down, bot/config.py ``is_chat_ref``: "-5" is an answer)."""
    link = _TME.match(word)
    if link:
        return "@" + link.group(1)
    if is_chat_ref(word):
        return word
    return None


def _is_settings(part: str) -> bool:
    """Is one word of this part a setting, a chat, or a duration (even a wrong one)? ``now``
    counts only among settings or alone ("Right now" stays an option), and a part of one
    word that is nearly a setting ("mutli") is read as settings, to be refused."""
    words = part.split()
    if [_fold(word) for word in words] in ([word] for word in _NOW):
        return True
    if len(words) == 1 and _near_setting(words[0]):
        return True
    return any(_is_setting_word(word) for word in words)


def _near_setting(word: str) -> bool:
    names = [name for names in _WORDS.values() for name in names]
    return bool(difflib.get_close_matches(_fold(word), names, n=1, cutoff=NEAR))


def _is_setting_word(word: str) -> bool:
    pair = _PAIR.match(word)
    if pair and _key_of(pair.group(1)):
        return True
    folded = _fold(word)
    return bool(
        _word_of(word)
        or _target(word)
        or (not folded.isdecimal() and parse_duration(word) is not None)
        or _DURATION_LIKE.fullmatch(folded)
    )


def _read_settings(part: str, settings: _Settings, timezone: tzinfo) -> None:
    """Read every word of a settings part; if one is unknown, say how to keep it an option."""
    before = len(settings.problems)
    _read_words(part, settings, timezone)
    unknown = (UNKNOWN_SETTING, UNKNOWN_SETTING_NEAR)
    if any(p.message in unknown for p in settings.problems[before:]):
        settings.problems.append(Problem(OPTION_NEEDS_BAR, {"part": part.strip()}))


def _read_words(part: str, settings: _Settings, timezone: tzinfo) -> None:
    rest = part.strip()
    while rest:
        pair = _PAIR.match(rest)
        key = _key_of(pair.group(1)) if pair else None
        if pair and key:
            value, rest = _value(key, rest[pair.end() :])
            _setting(key, pair.group(1), value, settings, timezone)
        else:
            word, *others = rest.split(maxsplit=1)
            _word(word, settings)
            rest = others[0] if others else ""
        rest = rest.strip()


def _value(key: str, rest: str) -> tuple[str, str]:
    """The value after ``key=``: quoted, the rest of the part (texts), or one word."""
    quoted = _QUOTED.match(rest)
    if quoted:
        return next(g for g in quoted.groups() if g is not None), rest[quoted.end() :]
    if key in _TEXT_KEYS:  # the rest of the part, line breaks kept; chats at its end are
        # still targets, and a ``now`` among or after them the flag ("why=... @chan now");
        # a text that only ends with "now" keeps it ("desc=Vote now").
        text, tail = rest.rstrip(), list[str]()
        while text and (_target(last := text.split()[-1]) or _fold(last) in _NOW):
            tail.insert(0, last)
            text = text[: -len(last)].rstrip()
        if not any(_target(word) for word in tail):
            return rest.strip(), ""
        return text.strip(), " ".join(tail)
    value, _, remainder = rest.partition(" ")
    if key == "close" and _CLOCK.match(remainder.split(" ", 1)[0]):
        clock, _, remainder = remainder.partition(" ")
        value = f"{value} {clock}"
    return value, remainder


def _setting(key: str, name: str, value: str, settings: _Settings, timezone: tzinfo) -> None:
    mistakes = {
        "quiz": BAD_CORRECT,
        "period": BAD_DURATION,
        "close": BAD_CLOSE_DATE,
        "remind": BAD_REMIND,
        "countries": BAD_COUNTRIES,
    }
    ok = True
    if key == "remind":
        off = value.casefold() in REMIND_OFF
        settings.remind = 0 if off else parse_duration(value)
        ok = off or bool(settings.remind)
    elif key == "countries":
        settings.countries = tuple(p.upper() for p in re.split(r"[,;\s]+", value) if p)
        ok = bool(settings.countries)
    elif key == "quiz":
        settings.correct = _numbers(value)
        ok = settings.correct is not None
    elif key == "period":
        seconds = parse_duration(value)
        ok = seconds is not None
        settings.period = (settings.period or 0) + (seconds or 0)
    elif key == "close":
        settings.close = _close_date(value, timezone)
        ok = settings.close is not None
    elif key == "desc":
        settings.desc = value or None
    else:
        settings.why = value or None
    if not ok or not value:
        problem = mistakes.get(key, EMPTY_TEXT)
        settings.problems.append(Problem(problem, {"word": f"{name}={value}"}))


# A flag word sets one field: (field, value).
_FLAGS: dict[str, tuple[str, bool]] = {
    "multi": ("multi", True),
    "public": ("public", True),
    "anonymous": ("public", False),
    "quiz": ("quiz", True),
    "hide": ("hide", True),
    "shuffle": ("shuffle", True),
    "addable": ("addable", True),
    "final": ("final", True),
    "nofinal": ("final", False),
    "members": ("members", True),
}


def _word(word: str, settings: _Settings) -> None:
    known = _word_of(word)
    target = _target(word)
    duration = parse_duration(word)
    if _fold(word) in _NOW:
        settings.now = True
    elif known:
        setattr(settings, *_FLAGS[known])
    elif target:
        settings.targets.append(target)
    elif duration is not None and not word.isdecimal():
        settings.period = (settings.period or 0) + duration  # "2d 3h" is 51 hours
    else:
        settings.problems.append(_unknown(word))


def _unknown(word: str) -> Problem:
    """An unknown setting, with the nearest setting name (``key=`` for a pair) if any."""
    name, equals, _value = word.partition("=")
    if equals:
        candidates = [f"{key}=" for names in _KEYS.values() for key in sorted(names)]
        typed = _fold(name) + "="
    else:
        candidates = [flag for names in _WORDS.values() for flag in sorted(names)]
        typed = _fold(word)
    nearest = difflib.get_close_matches(typed, candidates, n=1, cutoff=0.6)
    if nearest:
        return Problem(UNKNOWN_SETTING_NEAR, {"word": word, "nearest": nearest[0]})
    return Problem(UNKNOWN_SETTING, {"word": word})


def _numbers(value: str) -> tuple[int, ...] | None:
    pieces = [p for p in re.split(r"[,;\s]+", value.strip()) if p]
    numbers = [parse_number(p) for p in pieces]
    if not numbers or not all(n is not None and n >= 1 for n in numbers):
        return None
    return tuple(sorted({n for n in numbers if n is not None}))


def _close_date(value: str, timezone: tzinfo) -> datetime | None:
    moment = parse_moment(value)
    if moment is None or moment.utcoffset() is not None:
        return moment
    return moment.replace(tzinfo=timezone)


# ---------------------------------------------------------------- checking a request


async def check_targets(
    context: Context,
    user_id: int,
    refs: list[str],
    spec_for: Callable[[Target], PollSpec],
    language: str | None,
) -> tuple[list[Target], list[str]]:
    """Resolve the targets, check the user's rights and the poll in each; the mistakes as
    HTML lines (a mistake found in every target is listed once, without chat names)."""
    _ = gettext_for(language)
    wanted = await target_refs(context, user_id, refs)
    targets, errors = await resolve_targets(context, wanted)
    lines = [f"{escape(e.ref)}: {escape(e.problem.render(language))}" for e in errors]
    if not targets and not errors:
        lines.append(
            _(
                "No chat to send to: name one, like @mychannel, or ask an admin "
                "to set default channels."
            )
        )
    for target in targets:
        if not await may_manage(context, user_id, target.chat_id):
            lines.append(
                _("{chat}: only its administrators and the bot's admins may post there.").format(
                    chat=escape(target.display)
                )
            )
    moment = services(context).clock.utc()
    found: dict[tuple[str, str], list[str]] = {}
    for target in targets:
        for problem in validate(spec_for(target), in_channel=target.is_channel, now=moment):
            where = found.setdefault((problem.message, problem.render(language)), [])
            if target.display not in where:
                where.append(target.display)
    for (message, text), where in found.items():
        named = message == PUBLIC_IN_CHANNEL or len(where) < len(targets)
        lines.append(escape((", ".join(where) + ": " if named else "") + text))
    return targets, lines


def refusal(lines: list[str], _: Gettext, hint: str | None = None) -> str:
    """The answer to a request that was refused: every mistake, then a hint."""
    text = "\n".join([_("Nothing was sent. Fix this first:"), *(f"• {line}" for line in lines)])
    return f"{text}\n\n{hint}" if hint else text
