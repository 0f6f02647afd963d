"""The content library: one TOML article per file, validated and localized.

A file in the content directory (``bot/articles/seed/`` by default) looks like this::

    id = "moscow-plant-reboot"   # [a-z0-9][a-z0-9-]{0,39}; goes into deep links /start s-<id>
    title = "..."
    language = "en"              # en or ru
    source_url = "https://..."   # optional
    lead = "..."                 # optional; default: the first paragraph of the body
    body = '''...'''             # paragraphs separated by blank lines
    summary = ["...", "..."]     # optional hand-written summary, 3-5 short points
    [poll]                       # optional; keys as in spec.PollTable
    question = "..."
    options = ["...", "..."]
    [translations.ru]            # optional, per language: title, lead, body, summary, poll
    title = "..."
    [translations.ru.poll]       # question, options (as many as the original), explanation,
    question = "..."             # description; the other settings come from [poll]
    options = ["...", "..."]

Single line breaks inside a paragraph are joined with spaces. msgspec checks each file's
shape (``_ArticleFile``: types, required and unknown keys), ``_read_article`` the rules
between fields. ``Library.load`` reports the mistakes as ContentErrors (file, field,
message; a file of the wrong shape has one) and keeps loading the other files.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from bot.articles import summary as summaries
from bot.polls.spec import ContentError as ContentError  # raised by the loader: re-exported
from bot.polls.spec import PollSpec, spec_from_mapping, validate
from bot.texts import SUPPORTED_LANGUAGES, normalize_language, telegram_length
from bot.validation import shaped

T = TypeVar("T")

ARTICLE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
COMPOSED_ID = re.compile(r"a-[0-9]+")  # the ids of articles composed in Telegram only
MAX_SUMMARY_POINTS = 8
MAX_POINT = 300  # with MAX_TITLE, keeps any hand-written summary within one message
MAX_TITLE = 256
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Translation:
    """The translated fields of an article; None (or empty) falls back to the original."""

    title: str | None = None
    lead: str | None = None
    body: str | None = None
    summary: tuple[str, ...] = ()
    poll: PollSpec | None = None


@dataclass(frozen=True, slots=True)
class LocalizedArticle:
    """An article as a reader of ``language`` sees it (untranslated fields in the original)."""

    id: str
    language: str
    title: str
    lead: str  # the given lead, or else the first paragraph of the body
    lead_given: bool
    body: str
    body_language: str
    source_url: str | None
    poll: PollSpec | None
    body_html: bool = False  # the body's paragraphs are HTML (composed in Telegram)
    has_image: bool = False  # posted as a photo with its caption

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(summaries.paragraphs(self.body))


@dataclass(frozen=True, slots=True)
class Article:
    """One article of the library, as its file gives it."""

    id: str
    title: str
    language: str
    body: str
    lead: str | None = None
    source_url: str | None = None
    summary: tuple[str, ...] = ()
    poll: PollSpec | None = None
    translations: Mapping[str, Translation] = field(default_factory=dict)
    source: str = "file"  # or where /newarticle got it: "text", "forward", "link"
    body_html: bool = False
    has_image: bool = False

    @property
    def languages(self) -> tuple[str, ...]:
        return (self.language, *sorted(self.translations))

    def localized(self, language: str | None) -> LocalizedArticle:
        """The article in ``language``, falling back field by field to the original.

        A translated body without a translated lead does not borrow the original lead.
        """
        lang = normalize_language(language, fallback=self.language)
        tr = self.translations.get(lang, Translation())
        body = tr.body or self.body
        lead = tr.lead or (None if tr.body else self.lead)
        first = summaries.paragraphs(body)
        return LocalizedArticle(
            id=self.id,
            language=lang,
            title=tr.title or self.title,
            lead=lead or (first[0] if first else ""),
            lead_given=lead is not None,
            body=body,
            body_language=lang if tr.body else self.language,
            source_url=self.source_url,
            poll=tr.poll or self.poll,
            body_html=self.body_html and not tr.body,
            has_image=self.has_image,
        )

    def summary_points(self, language: str | None) -> tuple[str, ...]:
        """Hand-written points in ``language``, else the original's, else an automatic summary."""
        localized = self.localized(language)
        translated = self.translations.get(localized.language, Translation()).summary
        if translated:
            return translated
        if self.summary:
            return self.summary
        body = plain_text(localized.body) if localized.body_html else localized.body
        return _auto_summary(body, localized.body_language)


def plain_text(html_text: str) -> str:
    """HTML as the reader sees it: tags out, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


@lru_cache(maxsize=256)
def _auto_summary(body: str, language: str) -> tuple[str, ...]:
    return summaries.summarize(body, language)


@dataclass(frozen=True, slots=True)
class Library:
    """Every article that loaded without mistakes, and the mistakes of the others."""

    articles: tuple[Article, ...] = ()
    errors: tuple[ContentError, ...] = ()
    # archived by /delarticle: no longer listed or posted, but the summary button of the
    # posts already out still works
    archived: tuple[Article, ...] = ()

    @classmethod
    def load(cls, directory: str | Path, *, now: datetime | None = None) -> Library:
        """Read every ``*.toml`` of ``directory``; a broken file never stops the others."""
        moment = now or datetime.now(UTC)
        folder = Path(directory)
        if not folder.is_dir():
            return cls(errors=(ContentError("no such directory", path=str(folder)),))
        articles: dict[str, Article] = {}
        errors: list[ContentError] = []
        where: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            article, problems = _read_article(path, moment)
            if article is not None and article.id in articles:
                message = f"the id {article.id!r} is already used by {where[article.id].name}"
                problems.append(ContentError(message, path=str(path), field="id"))
            errors += problems
            if article is not None and not problems:
                articles[article.id] = article
                where[article.id] = path
        return cls(tuple(articles[key] for key in sorted(articles)), tuple(errors))

    def get(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    def readable(self, article_id: str) -> Article | None:
        """An article whose summary a reader may ask for: offered, or archived."""
        found = self.get(article_id)
        return found or next((a for a in self.archived if a.id == article_id), None)

    @property
    def files(self) -> Library:
        """The articles of content/ alone, archived or not (what a refresh starts from)."""
        own = tuple(a for a in (*self.articles, *self.archived) if a.source == "file")
        return Library(tuple(sorted(own, key=lambda a: a.id)), self.errors)

    def merged(self, composed: Sequence[Article], archived: frozenset[str]) -> Library:
        """The files' articles with those composed in Telegram, without archived ones (a
        file's id wins over a composed one)."""
        ids = {a.id for a in self.articles}
        extra = tuple(a for a in composed if a.id not in ids)
        every = (*self.articles, *extra)
        kept = tuple(a for a in every if a.id not in archived)
        gone = tuple(a for a in every if a.id in archived)
        return Library(kept, self.errors, gone)


# ---------------------------------------------------------------- reading one file


class _Table(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A table of an article file: unknown keys are mistakes."""


class _ArticleFile(_Table, frozen=True):
    """The shape of an article file; ``_read_article`` checks the rest."""

    id: str
    title: str
    language: str
    body: str
    source_url: str | None = None
    lead: str | None = None
    summary: list[str] | None = None
    poll: dict[str, Any] | None = None  # read by spec_from_mapping
    translations: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)


class _TranslationFile(_Table, frozen=True):
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    summary: list[str] | None = None
    poll: dict[str, Any] | None = None


class _PollTexts(_Table, frozen=True):
    """A translated [poll]: only its texts; the other settings come from the original."""

    question: str
    options: list[str]
    explanation: str | None = None
    description: str | None = None


class _Reader:
    """Checks the rules of one file's fields, collecting a ContentError per mistake."""

    def __init__(self, path: Path, now: datetime) -> None:
        self.path = str(path)
        self.now = now
        self.errors: list[ContentError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(ContentError(message, path=self.path, field=name))

    def text(self, value: str | None, name: str, *, limit: int = 0) -> str | None:
        if value is None:
            return None
        if not value.strip():
            self.fail(name, "must be a non-empty string")
            return None
        if limit and telegram_length(value.strip()) > limit:
            self.fail(name, f"is {telegram_length(value.strip())} characters; at most {limit}")
        return _unwrap(value)

    def points(self, value: list[str] | None, name: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not 1 <= len(value) <= MAX_SUMMARY_POINTS or not all(
            0 < len(p.strip()) <= MAX_POINT for p in value
        ):
            self.fail(
                name, f"must be 1 to {MAX_SUMMARY_POINTS} points of 1-{MAX_POINT} characters"
            )
            return ()
        return tuple(_unwrap(p) for p in value)

    def shaped(self, data: Mapping[str, Any], kind: type[T], name: str) -> T | None:
        try:
            return shaped(data, kind, path=self.path, prefix=name, error=ContentError)
        except ContentError as error:
            self.errors.append(error)
            return None

    def poll(self, data: Mapping[str, Any] | None, name: str) -> PollSpec | None:
        """Parse a poll table; Telegram's rules come in ``checked``."""
        if data is None:
            return None
        try:
            return spec_from_mapping(data, self.path, field=name)
        except ContentError as error:
            self.errors.append(error)
            return None

    def checked(self, spec: PollSpec | None, name: str) -> PollSpec | None:
        # The target is not known yet: the rules of one kind of chat (a public poll, members
        # only, countries) are checked per target at send.
        problems = [] if spec is None else validate(spec, in_channel=None, now=self.now)
        for problem in problems:
            self.fail(name, problem.render("en"))
        return None if problems else spec


def _read_article(path: Path, now: datetime) -> tuple[Article | None, list[ContentError]]:
    reader = _Reader(path, now)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        reader.fail("", f"cannot read the file as TOML: {error}")
        return None, reader.errors
    raw = reader.shaped(data, _ArticleFile, "")
    if raw is None:
        return None, reader.errors
    article_id = reader.text(raw.id, "id")
    if article_id is not None and not ARTICLE_ID.fullmatch(article_id):
        reader.fail("id", "use 1-40 of a-z, 0-9 and '-', starting with a letter or digit")
    elif article_id is not None and COMPOSED_ID.fullmatch(article_id):
        reader.fail("id", "ids a-<number> are kept for articles composed in Telegram")
    if raw.language not in SUPPORTED_LANGUAGES:
        reader.fail("language", f"must be one of: {', '.join(SUPPORTED_LANGUAGES)}")
    source_url = reader.text(raw.source_url, "source_url")
    if source_url is not None and not re.fullmatch(r"https?://\S+", source_url):
        reader.fail("source_url", "must be an http:// or https:// address")
    article = Article(
        id=article_id or "",
        title=reader.text(raw.title, "title", limit=MAX_TITLE) or "",
        language=raw.language,
        body=reader.text(raw.body, "body") or "",
        lead=reader.text(raw.lead, "lead"),
        source_url=source_url,
        summary=reader.points(raw.summary, "summary"),
        poll=reader.checked(reader.poll(raw.poll, "poll"), "poll"),
    )
    translations = _read_translations(reader, raw.translations, article)
    if reader.errors:
        return (article if article_id else None), reader.errors
    return replace(article, translations=MappingProxyType(translations)), reader.errors


def _read_translations(
    reader: _Reader, tables: Mapping[str, Mapping[str, Any]], article: Article
) -> dict[str, Translation]:
    result: dict[str, Translation] = {}
    for lang, table in tables.items():
        prefix = f"translations.{lang}"
        if lang not in SUPPORTED_LANGUAGES or lang == article.language:
            others = [code for code in SUPPORTED_LANGUAGES if code != article.language]
            reader.fail(prefix, f"the language must be one of: {', '.join(others)}")
            continue
        fields = reader.shaped(table, _TranslationFile, prefix)
        if fields is None:
            continue
        result[lang] = Translation(
            title=reader.text(fields.title, f"{prefix}.title", limit=MAX_TITLE),
            lead=reader.text(fields.lead, f"{prefix}.lead"),
            body=reader.text(fields.body, f"{prefix}.body"),
            summary=reader.points(fields.summary, f"{prefix}.summary"),
            poll=_translated_poll(reader, fields.poll, article.poll, f"{prefix}.poll"),
        )
    return result


def _translated_poll(
    reader: _Reader, data: Mapping[str, Any] | None, original: PollSpec | None, name: str
) -> PollSpec | None:
    """The original poll with translated texts; every other setting stays as in [poll]."""
    texts = None if data is None else reader.shaped(data, _PollTexts, name)
    if texts is None:
        return None
    if original is None:
        reader.fail(name, "translates [poll], but the article has no valid [poll]")
        return None
    if len(texts.options) != len(original.options):
        count, expected = len(texts.options), len(original.options)
        reader.fail(f"{name}.options", f"has {count} options; the original poll has {expected}")
        return None
    spec = replace(
        original,
        question=texts.question,
        options=tuple(texts.options),
        explanation=texts.explanation or original.explanation,
        description=texts.description or original.description,
    )
    return reader.checked(spec, name)


def _unwrap(text: str) -> str:
    """Paragraphs separated by blank lines, each on one line with single spaces."""
    return "\n\n".join(" ".join(p.split()) for p in summaries.paragraphs(text))
