"""The library as the bot offers it: the files of content/ and the articles composed in
Telegram (SQLite), without archived ones; /article, /delarticle and /reload (also SIGHUP).

``svc.library`` always holds the merged library: ``refresh`` rebuilds it after a change in
the database, ``reload`` reads the files again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.admin.auth import admin_only
from bot.articles.content import Article, ContentError, Library
from bot.articles.posting import source_name
from bot.polls import campaigns
from bot.polls.preview import moment, render_poll
from bot.replies import reply_once, reply_parts
from bot.services import Services, of_app, services
from bot.texts import (
    ECHO_CHARS,
    N_,
    bold,
    escape,
    gettext_for,
    shorten,
    translate,
    translate_plural,
)
from storage.compose import ComposedArticle

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
PTBApplication = Any

NO_ARTICLE = N_("There is no article {id}: see /articles.")
ARTICLE_USAGE = N_("Give an article id, e.g. {example} (the ids are in /articles).")


def as_article(row: ComposedArticle) -> Article:
    """A composed article as the library holds it."""
    return Article(
        id=row.id,
        title=row.title,
        language=row.language,
        body=row.body,
        source_url=row.source_url,
        summary=row.summary,
        poll=campaigns.spec_of_record(dict(row.poll)) if row.poll else None,
        source=row.source,
        body_html=True,
        has_image=bool(row.image_file_id or row.has_image_bytes),
    )


async def merge(svc: Services, files: Library) -> Library:
    composed = [as_article(row) for row in await svc.store.composed_articles()]
    return files.merged(composed, await svc.store.archived_article_ids())


async def refresh(svc: Services) -> None:
    """Rebuild the library after an article was composed, changed or archived."""
    svc.library = await merge(svc, svc.library.files)


async def reload(application: PTBApplication) -> Library:
    """Read content/ again (at start, /reload, SIGHUP); each mistake is logged with its
    file and field, and the other files still load."""
    svc = of_app(application)
    files = await asyncio.to_thread(Library.load, svc.config.bot.content_dir)
    for error in files.errors:
        log.error("content file %s, field %s: %s", error.path, error.field or "-", error.message)
    svc.library = await merge(svc, files)
    log.info(
        "content library: %d articles (%s)", len(svc.library.articles), svc.config.bot.content_dir
    )
    return files


def error_line(error: ContentError) -> str:
    return f"• {escape(error.path or '?')}: {escape(error.field or '-')}: {escape(error.message)}"


@admin_only
async def reload_content(update: Update, context: Context) -> None:
    """/reload: read the files of content/ again, and say what is wrong in which file."""
    user = update.effective_user
    _ = gettext_for(user.language_code if user else None)
    files = await reload(context.application)
    reloaded = translate_plural(
        user.language_code if user else None,
        "Content reloaded: {n} article.",
        "Content reloaded: {n} articles.",
        len(files.articles),
    )
    lines = [escape(reloaded)]
    if files.errors:
        lines.append(escape(_("Mistakes (file: field: what):")))
        lines += [error_line(error) for error in files.errors]
    await reply_parts(update, context, lines, what="reload")


async def _named_article(update: Update, context: Context) -> Article | None:
    """The article the command names (its one argument); else say what is missing."""
    user = update.effective_user
    args = context.args or []
    article_id = args[0] if len(args) == 1 else None
    article = services(context).library.get(article_id) if article_id else None
    if article is None:
        language = user.language_code if user else None
        await reply_once(update, context, _missing(article_id, language), plain=True)
    return article


@admin_only
async def show_article(update: Update, context: Context) -> None:
    """/article ID: its title, source, summary, poll, and where and when it was posted."""
    user = update.effective_user
    language = user.language_code if user else None
    article = await _named_article(update, context)
    if article is None:
        return
    lines = await _describe(services(context), article, language)
    await reply_parts(update, context, lines, what="article")


async def _describe(svc: Services, article: Article, language: str | None) -> list[str]:
    _ = gettext_for(language)
    localized = article.localized(article.language)
    lines = [
        f"<code>{escape(article.id)}</code> — {bold(article.title)}",
        escape(_("From: {source}").format(source=source_name(article, _))),
    ]
    if article.source_url:
        lines.append(escape(article.source_url))
    lines += ["", bold(escape(_("Summary")))]
    lines += [f"• {escape(p)}" for p in article.summary_points(article.language)]
    now = datetime.fromtimestamp(svc.clock.seconds(), svc.config.bot.tz)
    if localized.poll is not None:
        lines += ["", render_poll(localized.poll, language, svc.config.bot.tz, now)]
    else:
        lines += ["", escape(_("No poll."))]
    posts = await svc.store.posts_of(article.id)
    lines += ["", bold(escape(_("Posted: {count}").format(count=len(posts))))]
    for post in posts:
        chat = await svc.store.chat(post.chat_id)
        name = None if chat is None else (f"@{chat.username}" if chat.username else chat.title)
        when = moment(post.posted_at, svc.config.bot.tz)
        lines.append(f"• {escape(name or str(post.chat_id))} · {escape(when)}")
    return lines


def _missing(article_id: str | None, language: str | None) -> str:
    if article_id is None:
        return translate(language, ARTICLE_USAGE, example="/article a-1")
    return translate(language, NO_ARTICLE, id=shorten(article_id, ECHO_CHARS))


@admin_only
async def archive_article(update: Update, context: Context) -> None:
    """/delarticle ID: archive an article: no longer listed or offered; its posts stay."""
    user = update.effective_user
    language = user.language_code if user else None
    svc = services(context)
    article = await _named_article(update, context)
    if article is None:
        return
    await svc.store.archive_article(article.id, user.id if user else None)
    await svc.store.audit(user.id if user else None, "delarticle", target=article.id)
    await refresh(svc)
    text = N_("Article {id} is archived: /articles no longer lists it.")
    await reply_once(update, context, translate(language, text, id=article.id), plain=True)
