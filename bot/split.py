"""Cutting text to Telegram's sizes: one splitter for posts, summaries, digests and replies.

``pack`` joins parts into as few messages as fit a limit. ``cut`` splits one text that is
too long at the coarsest boundary that helps (the ``levels`` a caller gives: lines by
default; sentences, then words for an article's paragraphs), and between characters when
none does. Joining the pieces with their separators gives the text back (up to the
whitespace at the cuts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram.constants import MessageLimit

from bot.texts import telegram_length

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)

Measure = Callable[[str], int]
Level = tuple[Callable[[str], list[str]], str]  # how to split, and what joins the pieces
LINES: Level = (lambda text: text.split("\n"), "\n")
WORDS: Level = (str.split, " ")


def pack(
    parts: Sequence[str],
    *,
    separator: str = "\n",
    limit: int = MAX_TEXT,
    measure: Measure = telegram_length,
) -> list[str]:
    """Join ``parts`` into as few messages as fit ``limit`` by ``measure`` (by default UTF-16
    units with the markup counted, to be safe); a part too long on its own is ``cut``."""
    pieces = [piece for part in parts for piece in cut(part, limit, measure=measure)]
    return _join(pieces, separator, limit, measure)


def cut(
    text: str, limit: int, *, levels: Sequence[Level] = (LINES,), measure: Measure = len
) -> list[str]:
    """``text`` in pieces that each fit ``limit``: split at the first level that gives more
    than one piece (each cut further by the next levels), packed back with its separator."""
    if measure(text) <= limit:
        return [text]
    for index, (split, separator) in enumerate(levels):
        parts = split(text)
        if len(parts) > 1:
            finer = levels[index + 1 :]
            pieces = [p for part in parts for p in cut(part, limit, levels=finer, measure=measure)]
            return _join(pieces, separator, limit, measure)
    return _characters(text, limit, measure)


def _join(pieces: list[str], separator: str, limit: int, measure: Measure) -> list[str]:
    """Pieces that each fit, joined with ``separator`` while the result fits (empty ones
    at the start of a message are dropped)."""
    joined: list[str] = []
    current = ""
    for piece in pieces:
        longer = f"{current}{separator}{piece}" if current else piece
        if measure(longer) <= limit:
            current = longer
            continue
        joined.append(current)
        current = piece
    return [*joined, current] if current else joined


def _characters(text: str, limit: int, measure: Measure) -> list[str]:
    """The longest prefixes that fit, one after another (at least a character each)."""
    chunks: list[str] = []
    while text:
        low, high = 1, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if measure(text[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        chunks.append(text[:low])
        text = text[low:]
    return chunks
