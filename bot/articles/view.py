"""How an article looks in Telegram: the post split into messages, the summary message,
and the ``/start s-<id>`` deep-link payload that asks for that summary."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

from telegram.constants import MessageLimit

from bot.articles import summary as summaries
from bot.articles.content import ARTICLE_ID, Library, LocalizedArticle
from bot.split import pack
from bot.texts import bold, escape, gettext_for, link, telegram_length

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION = int(MessageLimit.CAPTION_LENGTH)  # 1,024
_PAYLOAD = re.compile(r"s-([a-z0-9][a-z0-9-]{0,39})")
_TAG = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """The length of an HTML-mode message as Telegram counts it: tags out, UTF-16 units."""
    return telegram_length(html.unescape(_TAG.sub("", html_text)))


@dataclass(frozen=True, slots=True)
class _Block:
    """A paragraph of a message: plain text, shown through ``wrap`` (a tag name or '')."""

    text: str
    wrap: str = ""
    url: str | None = None
    raw: bool = False  # ``text`` is HTML already (a paragraph composed in Telegram)

    def html(self) -> str:
        if self.raw:
            return self.text
        if self.url is not None:
            return link(self.url, self.text)
        return (
            f"<{self.wrap}>{escape(self.text)}</{self.wrap}>" if self.wrap else escape(self.text)
        )


def render_post(article: LocalizedArticle, *, limit: int = MAX_TEXT) -> list[str]:
    """The article as HTML messages, split between paragraphs so each fits ``limit``; with a
    lead image, the first is the photo's caption (``MAX_CAPTION``)."""
    _ = gettext_for(article.language)
    blocks = [_Block(article.title, "b")]
    if article.lead_given:
        blocks.append(_Block(article.lead, "i"))
    blocks += [_paragraph(p, article.body_html, limit) for p in article.paragraphs]
    if article.source_url:
        blocks.append(_Block(_("Source"), url=article.source_url))
    pieces = [
        replace(block, text=piece)
        for block in blocks
        for piece in (
            [block.text]
            if block.raw
            else summaries.split_to_fit(
                block.text, limit, article.body_language, measure=telegram_length
            )
        )
    ]
    html_pieces = [block.html() for block in pieces]
    if not article.has_image:
        return pack(html_pieces, separator="\n\n", limit=limit, measure=visible_length)
    caption = _caption(html_pieces)
    rest = pack(html_pieces[caption:], separator="\n\n", limit=limit, measure=visible_length)
    return ["\n\n".join(html_pieces[:caption]), *rest]


def _paragraph(text: str, is_html: bool, limit: int) -> _Block:
    """A body paragraph; an HTML one too long for a message goes as plain text (split)."""
    if not is_html:
        return _Block(text)
    if visible_length(text) <= limit and telegram_length(text) <= limit:
        return _Block(text, raw=True)
    return _Block(html.unescape(_TAG.sub("", text)))


def _caption(pieces: list[str]) -> int:
    """How many of the first pieces fit a photo's caption (at least the title)."""
    count = 1
    while count < len(pieces):
        text = "\n\n".join(pieces[: count + 1])
        if visible_length(text) > MAX_CAPTION:
            break
        count += 1
    return count


def render_summary(article: LocalizedArticle, points: tuple[str, ...], language: str) -> str:
    """Bold title, a "Summary" heading, one bullet per point and the source link."""
    _ = gettext_for(language)
    heading, source = _("Summary"), _("Source")
    head = f"{bold(article.title)}\n\n{bold(heading)}\n"
    tail = f"\n\n{link(article.source_url, source)}" if article.source_url else ""
    kept = list(points)
    while True:
        text = head + "\n".join(f"• {escape(point)}" for point in kept) + tail
        if visible_length(text) <= MAX_TEXT or not kept:
            return text
        if len(kept) > 1:
            kept.pop()
        elif len(kept[0]) > 1:
            excess = visible_length(text) - MAX_TEXT + 1
            kept = [kept[0][: max(0, len(kept[0]) - excess)].rstrip() + "…"]
        else:
            return text  # the title alone is too long: load-time checks prevent this


def article_ids(library: Library) -> str:
    """The ids of every article, for a message that asks for one ("-" when there is none)."""
    return ", ".join(article.id for article in library.articles) or "-"


# ---------------------------------------------------------------- deep links


def summary_payload(article_id: str) -> str:
    """The /start payload that asks for an article's summary ("s-<id>").

    Build the link with ``telegram.helpers.create_deep_linked_url(bot_username, payload)``.
    """
    if not ARTICLE_ID.fullmatch(article_id):
        raise ValueError(f"not an article id: {article_id!r}")
    return f"s-{article_id}"


def parse_payload(text: str | None) -> str | None:
    """The article id of a summary payload, or None for anything else."""
    if not text:
        return None
    match = _PAYLOAD.fullmatch(text)
    return match.group(1) if match else None
