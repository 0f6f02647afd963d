"""The one place user-facing text comes from: gettext catalogues plus HTML helpers.

Source strings are English msgids marked with ``_()`` (or ``N_()`` where the language is
not known yet); a text that shows a count takes ``ngettext`` or ``translate_plural`` so the
noun agrees with it. Translations live in ``bot/locales/<lang>/LC_MESSAGES/messages.po``
and are read from the ``messages.mo`` compiled beside it (``pybabel compile``; the README's
"For translators" has the whole workflow, tests/test_i18n.py fails on a stale ``.mo``).
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "ru")

Gettext = Callable[[str], str]
ECHO_CHARS = 200  # what an answer quotes of the user's input, at most
Ngettext = Callable[[str, str, int], str]


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


def normalize_language(code: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """Map a Telegram ``language_code`` ("ru", "ru-RU", "en-GB", None) to a supported one."""
    if not code:
        return fallback
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED_LANGUAGES else fallback


@cache
def _translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalogue of a supported language; a missing ``.mo`` is an install bug."""
    return gettext.translation(DOMAIN, LOCALES_DIR, [language])


def gettext_for(language: str | None) -> Gettext:
    """Return the ``_`` function of a language (unknown languages fall back to English)."""
    return _translations(normalize_language(language)).gettext


def translate(language: str | None, message: str, **params: Any) -> str:
    """Translate ``message`` and fill its ``{placeholders}``."""
    text = gettext_for(language)(message)
    return text.format(**params) if params else text


def ngettext_for(language: str | None) -> Ngettext:
    """Return the ``ngettext`` of a language: the form of a message that agrees with ``n``."""
    return _translations(normalize_language(language)).ngettext


def translate_plural(
    language: str | None, singular: str, plural: str, n: int, **params: Any
) -> str:
    """The form of a message that agrees with ``n``, its ``{n}`` and other placeholders filled."""
    return ngettext_for(language)(singular, plural, n).format(**{"n": n, **params})


def votes_in_chats(language: str | None, votes: int, chats: int) -> str:
    """ "5 votes in 2 chats", each number with its own plural form ("в 21 чате")."""
    where = translate_plural(language, "in {n} chat", "in {n} chats", chats)
    return translate_plural(language, "{n} vote {where}", "{n} votes {where}", votes, where=where)


@dataclass(frozen=True, slots=True)
class Problem:
    """A user mistake found before calling the API: a msgid and what fills it."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, language: str | None) -> str:
        """The message in ``language``; a text param (often what the user typed) is cut to
        ECHO_CHARS, so that no answer outgrows a message because of what it quotes."""
        params = {
            key: shorten(value, ECHO_CHARS) if isinstance(value, str) else value
            for key, value in self.params.items()
        }
        return translate(language, self.message, **params)


class Refusal(Exception):
    """A request a command will not carry out, with what to tell the user: a ``problem``
    whose ``words`` params are msgids themselves, translated too."""

    def __init__(self, problem: Problem, words: tuple[str, ...] = ()) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.words = words

    def render(self, language: str | None) -> str:
        params = dict(self.problem.params)
        for key in self.words:
            params[key] = translate(language, params[key])
        return Problem(self.problem.message, params).render(language)


def telegram_length(text: str) -> int:
    """The length of a text as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode (only <, > and & matter there)."""
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{escape(text)}</a>'


def bar(fraction: float, width: int = 10) -> str:
    """A text bar for a share between 0 and 1, in whole and half blocks."""
    fraction = min(max(fraction, 0.0), 1.0)
    halves = round(fraction * width * 2)
    return "█" * (halves // 2) + ("▌" if halves % 2 else "") + "·" * (width - (halves + 1) // 2)


def shares(counts: Sequence[int], voters: int, *, multiple: bool = False) -> list[str]:
    """Each count's share for display, in the order given.

    A single-answer poll's shares are whole percentages of all its votes that add up to
    exactly 100% (largest remainder method: round every share down, then give the missing
    points to the largest remainders, a larger count first on a tie). A multiple-answer
    poll's shares are of ``voters``, each rounded on its own: they may add up to more."""
    if multiple:
        return [percent(count, voters) for count in counts]
    whole = sum(counts)
    if whole <= 0:
        return ["0%" for _ in counts]
    floors = [100 * count // whole for count in counts]
    order = sorted(range(len(counts)), key=lambda i: (-(100 * counts[i] % whole), -counts[i], i))
    for i in order[: 100 - sum(floors)]:
        floors[i] += 1
    return [f"{value}%" for value in floors]


def share_of(count: int, whole: int) -> float:
    """A count as a fraction of ``whole``, for a bar (0 when there is nothing)."""
    return count / whole if whole > 0 else 0.0


def percent(part: int, whole: int) -> str:
    """A percentage for display: one decimal below 10 %, whole numbers above."""
    if whole <= 0:
        return "0%"
    value = 100.0 * part / whole
    return f"{value:.1f}%" if 0 < value < 10 else f"{value:.0f}%"
