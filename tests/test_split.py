"""The one text splitter: posts, summaries, digests and replies cut text the same way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import summary
from bot.split import LINES, WORDS, Level, cut, pack
from bot.texts import telegram_length


def test_a_long_line_fills_each_message_before_starting_the_next() -> None:
    assert pack(["x" * 10], limit=4, measure=len) == ["xxxx", "xxxx", "xx"]


def test_characters_are_cut_by_the_measure_given() -> None:
    pieces = cut("😀" * 5, 4, measure=telegram_length)  # an emoji is 2 UTF-16 units
    assert pieces == ["😀😀", "😀😀", "😀"]


def test_a_sentence_too_long_is_cut_at_words_then_characters() -> None:
    text = "Short one. " + "word " * 6 + "abcdefghijklmnop."
    pieces = summary.split_to_fit(text, 12, "en")
    assert pieces[0] == "Short one."
    assert all(len(p) <= 12 for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet="ab \n€😀", max_size=300),
    st.integers(min_value=2, max_value=40),
    st.sampled_from([(LINES,), (LINES, WORDS), (WORDS,)]),
)
def test_cut_fits_and_loses_only_whitespace(
    text: str, limit: int, levels: tuple[Level, ...]
) -> None:
    pieces = cut(text, limit, levels=levels, measure=telegram_length)
    assert all(telegram_length(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
