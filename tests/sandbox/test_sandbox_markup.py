"""The HTML parse mode parser: plain text, entity offsets in UTF-16, strictness."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.errors import ApiError
from bot.sandbox.markup import command_entities, format_text, parse_html, utf16_len

TRIM = " \t\r\n"


@given(st.text())
def test_escaped_text_round_trips(text: str) -> None:
    plain, entities = parse_html(html.escape(text))
    assert plain == text.strip(TRIM)
    assert entities == []


@given(st.text(min_size=1).filter(lambda t: t.strip(TRIM) == t))
def test_a_bold_wrapper_covers_the_text_in_utf16_units(text: str) -> None:
    plain, entities = parse_html(f"<b>{html.escape(text)}</b>")
    assert plain == text
    assert entities == [{"type": "bold", "offset": 0, "length": utf16_len(text)}]


def test_offsets_count_utf16_code_units() -> None:
    plain, entities = parse_html("😀 <i>Москва</i> 🚗<u>EV</u>")
    assert plain == "😀 Москва 🚗EV"
    assert entities == [
        {"type": "italic", "offset": 3, "length": 6},
        {"type": "underline", "offset": 12, "length": 2},
    ]


def test_nested_entities_and_attributes() -> None:
    plain, entities = parse_html(
        '<b>KAMAZ <a href="https://kamaz.ru/?a=1&amp;b=2">site</a></b>\n'
        '<pre><code class="language-python">x = 1</code></pre>'
        '<blockquote expandable>long</blockquote><tg-emoji emoji-id="42">👍</tg-emoji>'
    )
    assert plain == "KAMAZ site\nx = 1long👍"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 10},
        {"type": "text_link", "offset": 6, "length": 4, "url": "https://kamaz.ru/?a=1&b=2"},
        {"type": "pre", "offset": 11, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 16, "length": 4},
        {"type": "custom_emoji", "offset": 20, "length": 2, "custom_emoji_id": "42"},
    ]


def test_leading_and_trailing_whitespace_is_trimmed_with_entities() -> None:
    assert parse_html("\n  <b> hi </b>\n") == ("hi", [{"type": "bold", "offset": 0, "length": 2}])


@pytest.mark.parametrize(
    "source",
    [
        "<br>",
        "<p>x</p>",
        "<b>x",
        "x</b>",
        "<b><i>x</b></i>",
        "a < b",
        "AT&T",
        "&nbsp;",
        "<span>x</span>",
        "<tg-emoji>x</tg-emoji>",
        "<a href='x'",
        "&#0;",
    ],
)
def test_malformed_markup_is_refused(source: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")


def test_parse_modes() -> None:
    assert format_text("<b>x</b>", "html", None) == (
        "x",
        [{"type": "bold", "offset": 0, "length": 1}],
    )
    assert format_text("<b>x</b>", None, None) == ("<b>x</b>", [])
    with pytest.raises(ApiError, match="HTML only"):
        format_text("*x*", "MarkdownV2", None)
    entities = [{"type": "italic", "offset": 0, "length": 2}]
    assert format_text("hi", None, entities) == ("hi", entities)
    with pytest.raises(ApiError, match="out of the text"):
        format_text("hi", None, [{"type": "bold", "offset": 1, "length": 5}])


def test_command_entities() -> None:
    assert command_entities("/start deep-link") == [
        {"type": "bot_command", "offset": 0, "length": 6}
    ]
    assert command_entities("/results@pollbot_sandbox_bot")[0]["length"] == 28
    assert command_entities("hello /start") == []
