"""Packing replies into Telegram-sized messages: within the limit, nothing lost or reordered."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.split import pack
from bot.texts import telegram_length

# Lines of at most 50 UTF-16 units: each fits a 60-unit message on its own.
LINES = st.lists(st.text(alphabet="ab €😀", min_size=0, max_size=25), min_size=1, max_size=8)


@given(st.lists(LINES.map("\n".join), min_size=1, max_size=30), st.sampled_from(["\n", "\n\n"]))
def test_messages_fit_and_keep_every_line_in_order(parts: list[str], separator: str) -> None:
    messages = pack(parts, separator=separator, limit=60)
    assert all(telegram_length(m) <= 60 for m in messages)
    kept = [line for m in messages for line in m.split("\n") if line]
    assert kept == [line for part in parts for line in part.split("\n") if line]


def test_parts_share_a_message_while_they_fit() -> None:
    assert pack(["a" * 10, "b" * 10, "c" * 25], limit=30) == ["a" * 10 + "\n" + "b" * 10, "c" * 25]


def test_a_line_longer_than_a_message_is_cut_without_losing_text() -> None:
    messages = pack(["x" * 70], limit=30)
    assert "".join(messages) == "x" * 70 and all(len(m) <= 30 for m in messages)


def test_emoji_count_as_two_units_like_telegram_counts_them() -> None:
    assert pack(["😀" * 10, "x"], limit=21) == ["😀" * 10, "x"]
