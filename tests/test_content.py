"""The content library: the seed article, broken files, rendering and deep-link payloads."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.articles.content import Article, Library, Translation
from bot.articles.view import (
    parse_payload,
    render_post,
    render_summary,
    summary_payload,
    visible_length,
)
from bot.config import SHIPPED_CONTENT_DIR
from bot.polls.spec import validate

SEED_FILE = SHIPPED_CONTENT_DIR / "moscow-plant-reboot.toml"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class _Text(HTMLParser):
    """What a Telegram client shows for an HTML-mode message: the text without tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def shown(message: str) -> str:
    parser = _Text()
    parser.feed(message)
    parser.close()
    return "".join(parser.parts)


def telegram_length(message: str) -> int:
    return len(shown(message).encode("utf-16-le")) // 2


@pytest.fixture(scope="module")
def seed() -> Article:
    library = Library.load(SHIPPED_CONTENT_DIR, now=NOW)
    assert library.errors == ()
    article = library.get("moscow-plant-reboot")
    assert article is not None
    return article


# ---------------------------------------------------------------- the seed article


def test_seed_article_loads_with_summaries_in_both_languages(seed: Article) -> None:
    assert seed.language == "en" and seed.source_url is None
    assert "KAMAZ" in seed.title and "ru" in seed.translations
    assert len(seed.localized("en").paragraphs) == 2
    assert "Previous Article" not in seed.body and "Get a summary" not in seed.body
    for lang in ("en", "ru"):
        points = seed.summary_points(lang)
        assert 3 <= len(points) <= 5
    assert seed.summary_points("ru") != seed.summary_points("en")
    assert "КАМАЗ" in " ".join(seed.summary_points("ru"))
    assert seed.localized("ru").title != seed.title


def test_seed_poll_in_both_languages(seed: Article) -> None:
    english = seed.localized("en").poll
    russian = seed.localized("ru").poll
    assert english is not None and russian is not None
    assert 4 <= len(english.options) <= 6
    assert len(russian.options) == len(english.options)
    assert russian.question != english.question
    for poll in (english, russian):
        assert poll.is_anonymous and not poll.allows_multiple_answers and not poll.quiz
        assert validate(poll, in_channel=True, now=NOW) == []


def test_unknown_reader_language_gets_the_original(seed: Article) -> None:
    localized = seed.localized("de")
    assert localized.title == seed.title and localized.language == "en"
    assert seed.summary_points(None) == seed.summary


# ---------------------------------------------------------------- broken files

GOOD = """id = "{id}"
title = "Good {id}"
language = "en"
body = "One paragraph."
"""


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_broken_files_are_reported_and_good_ones_still_load(tmp_path: Path) -> None:
    shutil.copy(SEED_FILE, tmp_path)
    _write(tmp_path, "a-good.toml", GOOD.format(id="a-good"))
    _write(tmp_path, "bad-toml.toml", 'id = "bad-toml"\ntitle = "unterminated\n')
    _write(tmp_path, "no-title.toml", 'id = "no-title"\nlanguage = "en"\nbody = "x"\n')
    _write(tmp_path, "unknown.toml", GOOD.format(id="unknown") + 'colour = "red"\n')
    _write(
        tmp_path,
        "bad-poll.toml",
        GOOD.format(id="bad-poll") + '[poll]\nquestion = "Q?"\noptions = ["Same", "same"]\n',
    )
    _write(tmp_path, "dup.toml", GOOD.format(id="a-good"))
    _write(
        tmp_path,
        "bad-translation.toml",
        GOOD.format(id="bad-translation")
        + '[poll]\nquestion = "Q?"\noptions = ["A", "B"]\n'
        + '[translations.ru.poll]\nquestion = "В?"\noptions = ["А"]\n',
    )
    library = Library.load(tmp_path, now=NOW)
    assert [a.id for a in library.articles] == ["a-good", "moscow-plant-reboot"]
    reported = {(Path(e.path).name, e.field) for e in library.errors}
    assert reported == {
        ("bad-toml.toml", ""),
        ("no-title.toml", "title"),
        ("unknown.toml", "colour"),
        ("bad-poll.toml", "poll"),
        ("dup.toml", "id"),
        ("bad-translation.toml", "translations.ru.poll.options"),
    }
    messages = {Path(e.path).name: str(e) for e in library.errors}
    assert "line" in messages["bad-toml.toml"]
    assert "repeats option 1" in messages["bad-poll.toml"]
    assert "a-good.toml" in messages["dup.toml"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('[poll]\nquestion = "Q"\noptions = ["a"]\nallow_adding_options = true\n', "poll"),
        ('[poll]\nquestion = "Q"\noptions = ["a"]\nopen_period = "soon"\n', "poll.open_period"),
        ('[poll]\nquestion = "Q"\noptions = ["a"]\nopen_period = "²"\n', "poll.open_period"),
        ('[translations.ru]\nsubtitle = "x"\n', "translations.ru.subtitle"),
        ('[translations.de]\ntitle = "x"\n', "translations.de"),
        ('[translations.ru.poll]\nquestion = "x"\noptions = ["a"]\n', "translations.ru.poll"),
        ('summary = ["ok", ""]\n', "summary"),
        ('source_url = "ftp://x"\n', "source_url"),
    ],
)
def test_each_mistake_names_its_field(tmp_path: Path, extra: str, field: str) -> None:
    text = GOOD.format(id="item")
    if not extra.startswith("["):
        text = extra + text
    else:
        text += extra
    _write(tmp_path, "item.toml", text)
    library = Library.load(tmp_path, now=NOW)
    assert library.articles == ()
    assert [e.field for e in library.errors] == [field]


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    library = Library.load(tmp_path / "nowhere")
    assert library.articles == () and len(library.errors) == 1


# ---------------------------------------------------------------- rendering


def _article(body: str, *, title: str = "T", **fields: Any) -> Article:
    return Article(id="x", title=title, language="en", body=body, **fields)


def test_render_post_escapes_html(seed: Article) -> None:
    article = _article(
        "Profits < costs & more.\n\nThird <b>para</b>.",
        title="A <b> & C",
        lead="Lead <i>",
        source_url="https://example.org/a?b=1&c=2",
    )
    (message,) = render_post(article.localized("en"))
    assert message.startswith("<b>A &lt;b&gt; &amp; C</b>\n\n<i>Lead &lt;i&gt;</i>\n\n")
    assert "Profits &lt; costs &amp; more." in message
    assert message.endswith('<a href="https://example.org/a?b=1&amp;c=2">Source</a>')
    assert shown(message) == (
        "A <b> & C\n\nLead <i>\n\nProfits < costs & more.\n\nThird <b>para</b>.\n\nSource"
    )
    (russian,) = render_post(article.localized("ru"))
    assert russian.endswith(">Источник</a>")
    # Without a lead in the file, the post starts with the body (no repeated paragraph).
    (seed_post,) = render_post(seed.localized("en"))
    assert "<i>" not in seed_post and shown(seed_post).count("According to Denis") == 1


def test_long_body_splits_on_paragraph_boundaries() -> None:
    paragraphs = [f"Paragraph {i}: " + "Words and more words 🚗 here. " * 16 for i in range(21)]
    body = "\n\n".join(p.strip() for p in paragraphs)
    assert len(body) > 10_000
    article = _article(body, source_url="https://example.org")
    parts = render_post(article.localized("en"))
    assert len(parts) >= 3
    assert all(telegram_length(part) <= 4096 for part in parts)
    assert all(visible_length(part) == telegram_length(part) for part in parts)
    texts = [shown(part) for part in parts]
    assert "\n\n".join(texts) == "T\n\n" + body + "\n\nSource"  # nothing lost, order kept
    assert all(not t.startswith(" ") for t in texts)


def test_a_paragraph_longer_than_the_limit_splits_at_sentences() -> None:
    body = " ".join(f"Sentence number {i} is here." for i in range(300))
    parts = render_post(_article(body).localized("en"), limit=1000)
    assert all(telegram_length(part) <= 1000 for part in parts)
    texts = [shown(part) for part in parts]
    assert all(t.endswith(".") for t in texts[1:])
    assert " ".join(" ".join(texts).split()) == "T " + body
    assert texts[0].startswith("T\n\nSentence number 0 is here. Sentence number 1")


def test_render_summary(seed: Article) -> None:
    message = render_summary(seed.localized("ru"), seed.summary_points("ru"), "ru")
    assert message.startswith(f"<b>{seed.localized('ru').title}</b>\n\n<b>Кратко</b>\n• ")
    assert message.count("\n• ") == len(seed.summary_points("ru"))
    english = render_summary(
        _article("b", source_url="https://e.org").localized("en"), ("a < b", "c & d"), "en"
    )
    assert english == (
        '<b>T</b>\n\n<b>Summary</b>\n• a &lt; b\n• c &amp; d\n\n<a href="https://e.org">Source</a>'
    )
    huge = render_summary(seed.localized("en"), tuple("x" * 3000 for _ in range(3)), "en")
    assert telegram_length(huge) <= 4096


def test_summary_falls_back_to_an_automatic_one() -> None:
    body = (
        "The plant will keep working. It drops the old models. KAMAZ helps with a new "
        "strategy. Electric cars come first. Foreign partners may join."
    )
    article = _article(body, translations={"ru": Translation(title="Т")})
    points = article.summary_points("ru")
    assert 1 <= len(points) <= 4 and all(p in body for p in points)
    translated = _article(body, translations={"ru": Translation(summary=("Один", "Два"))})
    assert translated.summary_points("ru") == ("Один", "Два")
    assert translated.summary_points("en") == article.summary_points("en")


# ---------------------------------------------------------------- deep links

IDS = st.from_regex(re.compile(r"[a-z0-9][a-z0-9-]{0,39}"), fullmatch=True)


@given(IDS)
def test_payload_round_trip(article_id: str) -> None:
    payload = summary_payload(article_id)
    assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    assert parse_payload(payload) == article_id


@given(st.text(max_size=80))
def test_parse_payload_accepts_only_summary_payloads(text: str) -> None:
    article_id = parse_payload(text)
    assert article_id is None or summary_payload(article_id) == text


@pytest.mark.parametrize(
    "text",
    [None, "", "s-", "s--x", "S-abc", "s-ABC", "x-abc", "s-abc ", "s-" + "a" * 41, "s-a_b"],
)
def test_malformed_payloads_are_rejected(text: str | None) -> None:
    assert parse_payload(text) is None


def test_summary_payload_refuses_bad_ids() -> None:
    with pytest.raises(ValueError):
        summary_payload("Not An Id")


def test_an_article_poll_for_members_of_some_countries_loads(tmp_path: Path) -> None:
    poll = '[poll]\nquestion = "Q?"\noptions = ["A", "B"]\nmembers_only = true\n'
    _write(tmp_path, "item.toml", GOOD.format(id="item") + poll + 'country_codes = ["RU"]\n')
    library = Library.load(tmp_path, now=NOW)
    assert library.errors == ()
    (article,) = library.articles
    assert article.poll is not None
    assert article.poll.members_only and article.poll.country_codes == ("RU",)


def test_an_article_poll_with_a_bad_country_code_is_refused(tmp_path: Path) -> None:
    poll = '[poll]\nquestion = "Q?"\noptions = ["A", "B"]\ncountry_codes = ["R1"]\n'
    _write(tmp_path, "item.toml", GOOD.format(id="item") + poll)
    library = Library.load(tmp_path, now=NOW)
    assert library.articles == ()
    assert "R1" in str(library.errors[0])
