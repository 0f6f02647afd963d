"""Sentences of a text: splitting it, and the automatic extractive summary, fully offline.

pysbd splits the text into sentences and sumy's LexRank ranks them. sumy's own ``Tokenizer``
needs NLTK's punkt data, which cannot be downloaded at run time, so sumy gets a tokenizer
built on pysbd with a plain regular-expression word splitter: nothing here reads NLTK data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy
import pysbd  # type: ignore[import-untyped]
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence  # type: ignore[import-untyped]
from sumy.nlp.stemmers import Stemmer  # type: ignore[import-untyped]
from sumy.summarizers.lex_rank import LexRankSummarizer  # type: ignore[import-untyped]
from sumy.utils import get_stop_words  # type: ignore[import-untyped]

from bot import split

# Telegram language code -> the language name sumy and pysbd understand.
LANGUAGES = {"en": "english", "ru": "russian"}

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")

# sumy 0.13 ships no Russian stop word list (get_stop_words("russian") raises LookupError),
# so the common function words are listed here.
_RUSSIAN_STOP_WORDS = frozenset(
    """
    а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже
    для до его ее её ей ему если есть еще ещё же за здесь и из или им их к как ко когда кто ли
    либо между меня мне много может мы на над надо наш не него нее неё нет ни них но ну о об
    однако он она они оно от очень по под после при про с со так также такой там те тем то того
    тоже той только том ту ты у уже хотя чем что чтобы чье чья эта эти это этого этой этом этот я
    """.split()  # noqa: SIM905 - a word list reads best as text
)


class _Choice(NamedTuple):
    sentence: Any
    order: int
    rating: float


def paragraphs(text: str) -> list[str]:
    """Split text into paragraphs at blank lines, without empty ones."""
    return [part.strip() for part in _PARAGRAPH_BREAK.split(text) if part.strip()]


def split_sentences(text: str, language: str) -> list[str]:
    """Split one paragraph into sentences with pysbd (no trailing spaces)."""
    segmenter = _segmenter(_pysbd_language(language))
    return [part.strip() for part in segmenter.segment(text) if part.strip()]


def words(text: str) -> list[str]:
    """The words of a text: runs of letters, with inner apostrophes and hyphens."""
    return _WORD.findall(text)


def split_to_fit(
    text: str, limit: int, language: str, *, measure: Callable[[str], int] = len
) -> list[str]:
    """Cut a text longer than ``limit`` at sentences, then words, then characters.

    Joining the pieces with spaces gives the text back (up to whitespace).
    """
    sentences: split.Level = (lambda part: split_sentences(part, language), " ")
    return split.cut(text, limit, levels=(sentences, split.WORDS), measure=measure)


def summarize(
    text: str, language: str, *, max_points: int = 4, max_chars: int = 900
) -> tuple[str, ...]:
    """Pick the most central sentences of ``text``, in source order, one sentence per point.

    At most ``max_points`` sentences whose lengths add up to at most ``max_chars``; the same
    text always gives the same summary.
    """
    if max_points < 1 or max_chars < 1:
        raise ValueError("max_points and max_chars must be positive")
    tokenizer = _tokenizer(language)
    sentences = [s for p in paragraphs(text) for s in tokenizer.to_sentences(p)]
    if not sentences:
        return ()
    chooser = _Chooser(max_points, max_chars)
    if len(sentences) <= 2:
        # LexRank's idf is zero for every word of a two-sentence text: nothing to rank.
        chosen = chooser.pick([_Choice(s, i, 0.0) for i, s in enumerate(sentences)])
        return tuple(str(c.sentence) for c in sorted(chosen, key=lambda c: c.order))
    document = ObjectDocumentModel(
        [Paragraph([Sentence(sentence, tokenizer) for sentence in sentences])]
    )
    with numpy.errstate(divide="ignore", invalid="ignore"):
        picked = _summarizer(language)(document, chooser)
    return tuple(str(sentence) for sentence in picked)


class _Tokenizer:
    """The tokenizer interface sumy expects, on pysbd and a regular expression."""

    def __init__(self, language: str) -> None:
        self.language = LANGUAGES[language]
        self._code = language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph, self._code))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(words(sentence))


class _Chooser:
    """sumy's sentence count, as a callable: best rated first, within both limits."""

    def __init__(self, max_points: int, max_chars: int) -> None:
        self._max_points = max_points
        self._max_chars = max_chars

    def __call__(self, infos: Sequence[Any]) -> list[_Choice]:
        return self.pick([_Choice(i.sentence, i.order, i.rating) for i in infos])

    def pick(self, infos: Sequence[_Choice]) -> list[_Choice]:
        # Re-sort: ties (and NaN ratings of degenerate texts) go to the earlier sentence.
        ranked = sorted(infos, key=lambda i: (-_finite(i.rating), i.order))
        chosen: list[_Choice] = []
        seen: set[str] = set()
        used = 0
        for info in ranked:
            text = str(info.sentence)
            if text in seen or used + len(text) > self._max_chars:
                continue
            chosen.append(info)
            seen.add(text)
            used += len(text)
            if len(chosen) == self._max_points:
                break
        if not chosen and ranked:
            chosen.append(_shortened(ranked[0], self._max_chars))
        return chosen


def _finite(rating: float) -> float:
    return rating if math.isfinite(rating) else -math.inf


def _shortened(info: _Choice, max_chars: int) -> _Choice:
    """The best sentence cut at a word boundary when no whole sentence fits."""
    text = str(info.sentence)[: max_chars - 1]
    cut = text.rsplit(" ", 1)[0] if " " in text else text
    return _Choice(cut.rstrip(" ,;:") + "…", info.order, info.rating)


def _pysbd_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"no summary support for language {language!r}")
    return language


@cache
def _segmenter(language: str) -> Any:
    return pysbd.Segmenter(language=language, clean=False)


@cache
def _tokenizer(language: str) -> _Tokenizer:
    _pysbd_language(language)
    return _Tokenizer(language)


@cache
def _summarizer(language: str) -> Callable[[Any, _Chooser], tuple[Any, ...]]:
    name = LANGUAGES[language]
    summarizer = LexRankSummarizer(Stemmer(name))
    summarizer.stop_words = _stop_words(name)
    return summarizer  # type: ignore[no-any-return]


def _stop_words(name: str) -> frozenset[str]:
    try:
        return frozenset(get_stop_words(name))
    except LookupError:
        return _RUSSIAN_STOP_WORDS if name == "russian" else frozenset()
