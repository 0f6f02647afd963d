"""What /newarticle makes of a message: an article from pasted text, a forwarded post or a
link (downloaded by bot/articles/fetch.py, extracted with trafilatura).

Text: the first line is the title, the rest the body, Telegram's formatting (bold, links...)
kept as the post's HTML. A link alone in the message is downloaded; trafilatura gives the
title, main text, lead image and language. The language (en or ru) is trafilatura's when it
names one of those, else told by the script: Cyrillic letters against Latin ones. Nothing
here writes to the database: a ``ComposeError`` (or ``FetchError``) says what is wrong.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

import trafilatura
from telegram import Message, MessageEntity

from bot.articles import fetch
from bot.articles.content import MAX_TITLE, plain_text
from bot.texts import N_, Problem, Refusal, escape

log = logging.getLogger(__name__)


class ComposeError(Refusal):
    """A message /newarticle cannot make an article of."""


EMPTY = N_(
    "There is no article in this message: send a title on the first line and the text "
    "below it, forward a post, or send a link."
)
NO_BODY = N_("“{title}” has no text below it: write the article under the title line.")
LONG_TITLE = N_("The title (the first line) is {length} characters; at most {limit}.")
NO_ARTICLE_TEXT = N_("I found no article text on {url}.")

MIN_TEXT = 200  # characters of main text below which a page holds no article
_LINK = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article read from a message, not stored yet."""

    title: str
    body: str  # HTML paragraphs separated by blank lines
    language: str
    source: str  # "text", "forward" or "link"
    source_url: str | None = None
    image_file_id: str | None = None  # a forwarded photo
    image: bytes | None = None  # a link's lead image


def language_of(text: str) -> str:
    """ "ru" when Cyrillic letters outnumber Latin ones, else "en"."""
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"


def link_in(message: Message) -> str | None:
    """The link when the message is a link alone (any scheme: a wrong one is refused)."""
    text = (message.text or "").strip()
    return text if _LINK.match(text) and "://" in text else None


async def candidate(message: Message, *, allow_private: bool) -> Candidate:
    """The article in a message; ComposeError or fetch.FetchError when there is none."""
    url = link_in(message)
    if url is not None:
        return await from_link(url, allow_private=allow_private)
    source = "forward" if message.forward_origin is not None else "text"
    if message.photo:
        entities = message.caption_entities
        found = from_text(message, message.caption or "", entities, source)
        return dataclasses.replace(found, image_file_id=message.photo[-1].file_id)
    return from_text(message, message.text or "", message.entities, source)


def from_text(
    message: Message, text: str, entities: Sequence[MessageEntity], source: str
) -> Candidate:
    """Title (the first line) and body paragraphs (the rest, split at blank lines) of a
    message's text; each part is rendered to HTML on its own, with the formatting cut to
    it, so a bold run across two lines is closed in both and no part is broken HTML."""
    start, end = _stripped(text, 0, len(text))
    newline = text.find("\n", start, end)
    title_end = end if newline < 0 else newline
    title = " ".join(text[start:title_end].split())
    if not title:
        raise ComposeError(Problem(EMPTY))
    if len(title) > MAX_TITLE:
        raise ComposeError(Problem(LONG_TITLE, {"length": len(title), "limit": MAX_TITLE}))
    paragraphs: list[str] = []
    cursor = title_end
    for gap in [*_BLANK_LINES.finditer(text, title_end, end), None]:
        stop = gap.start() if gap is not None else end
        first, last = _stripped(text, cursor, stop)
        if first < last:
            paragraphs.append(_html_of(message, text, entities, first, last))
        cursor = gap.end() if gap is not None else end
    if not paragraphs:
        raise ComposeError(Problem(NO_BODY, {"title": title}))
    body = "\n\n".join(paragraphs)
    return Candidate(title, body, language_of(title + plain_text(body)), source)


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``..``end`` without the white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _utf16(text: str, index: int) -> int:
    """Where ``text[index]`` starts in UTF-16 code units (Telegram's offsets)."""
    return len(text[:index].encode("utf-16-le")) // 2


def _html_of(
    message: Message, text: str, entities: Sequence[MessageEntity], start: int, end: int
) -> str:
    """The HTML of ``text[start:end]`` with the entities cut to that range."""
    low, high = _utf16(text, start), _utf16(text, end)
    cut: list[MessageEntity] = []
    for entity in entities:
        first, last = max(entity.offset, low), min(entity.offset + entity.length, high)
        if first < last:
            cut.append(
                MessageEntity(
                    entity.type,
                    first - low,
                    last - first,
                    url=entity.url,
                    user=entity.user,
                    language=entity.language,
                    custom_emoji_id=entity.custom_emoji_id,
                )
            )
    part = Message(
        message_id=message.message_id,
        date=message.date,
        chat=message.chat,
        text=text[start:end],
        entities=tuple(cut),
    )
    return part.text_html


async def from_link(url: str, *, allow_private: bool) -> Candidate:
    """Download the page and extract the article; its lead image too, when it loads."""
    until = fetch.deadline()  # one time budget for the page and its image together
    page = await fetch.fetch(url, allow_private=allow_private, until=until)
    document = await asyncio.to_thread(_extract, page)
    if document is None:
        raise ComposeError(Problem(NO_ARTICLE_TEXT, {"url": url}))
    title, lines, image_url, language = document
    image = await _image(image_url, allow_private, until) if image_url else None
    body = "\n\n".join(escape(line) for line in lines)
    return Candidate(
        title,
        body,
        language if language in ("en", "ru") else language_of(title + " ".join(lines)),
        "link",
        source_url=page.url,
        image=image,
    )


def _extract(page: fetch.Download) -> tuple[str, list[str], str | None, str | None] | None:
    """trafilatura's title, main text (a paragraph a line), lead image and language."""
    markup = fetch.decoded(page)
    document = trafilatura.bare_extraction(
        markup, url=page.url, with_metadata=True, include_comments=False, include_tables=False
    )
    text = str(getattr(document, "text", "") or "")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    title = " ".join(str(getattr(document, "title", "") or "").split())
    if lines and title and lines[0] == title:
        lines = lines[1:]
    if not lines:
        return None
    title = (title or lines.pop(0))[:MAX_TITLE]
    if sum(len(line) for line in lines) < MIN_TEXT:
        return None  # navigation and a search box are not an article
    image = getattr(document, "image", None)
    image_url = html.unescape(str(image)) if image else None
    return (
        title,
        lines,
        urljoin(page.url, image_url) if image_url else None,
        getattr(document, "language", None),
    )


async def _image(url: str, allow_private: bool, until: float) -> bytes | None:
    """The lead image's bytes (JPEG, PNG or WebP), under the same checks, in what is left of
    the page's time; None when it fails (the article goes without it)."""
    try:
        found = await fetch.fetch(
            url, allow_private=allow_private, accept=fetch.IMAGES, until=until
        )
    except fetch.FetchError as exc:
        log.info("lead image %s left out: %s", url, exc.render("en"))
        return None
    return found.data or None
