"""What a reader gets in a private chat: the greeting, and an article's summary.

``/start s-<id>`` (the deep link under a post) and ``/summary ID`` send the summary in the
reader's language, once per update, and count each reader once. Asked in a group, the
bot answers with the deep link instead: summaries are sent privately.
"""

from __future__ import annotations

import asyncio

from telegram import Chat, Update
from telegram.ext import ContextTypes
from telegram.helpers import create_deep_linked_url

from bot.articles import view as article_view
from bot.articles.content import Article
from bot.replies import reply_once
from bot.services import services
from bot.texts import gettext_for, link, normalize_language

Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    """Greet a user who opens the bot, or send the summary a deep link (s-<id>) asks for."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    _ = gettext_for(user.language_code)
    if not context.args:
        greeting = _(
            "Hi! I post articles with a short summary and run polls about them. "
            "Send /help to see what I can do."
        )
        await reply_once(update, context, greeting, what="greeting")
        return
    article_id = article_view.parse_payload(context.args[0])
    article = services(context).library.readable(article_id) if article_id else None
    if article is None:
        text = _(
            "Sorry, this link does not lead to an article I have. "
            "Send /summary to see the articles whose summary I can send."
        )
        await reply_once(update, context, text, what="summary", plain=True)
        return
    await _deliver_summary(update, context, article)


async def send_summary(update: Update, context: Context) -> None:
    """Send an article's summary in the reader's language: /summary ARTICLE_ID."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    library = services(context).library
    article = library.readable(context.args[0]) if context.args else None
    if article is None:
        _ = gettext_for(user.language_code)
        text = _("Send /summary with the id of an article. The articles: {ids}")
        ids = article_view.article_ids(library)
        await reply_once(update, context, text.format(ids=ids), what="summary", plain=True)
        return
    await _deliver_summary(update, context, article)


def reader_language(article: Article, language_code: str | None) -> str:
    """The reader's language when the article has it, else the article's own."""
    language = normalize_language(language_code, fallback=article.language)
    return language if language in article.languages else article.language


async def _deliver_summary(update: Update, context: Context, article: Article) -> None:
    """Send the summary in private (once per update) and count the reader (once per user)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if message.chat.type != Chat.PRIVATE:
        payload = article_view.summary_payload(article.id)
        url = create_deep_linked_url(context.bot.username, payload)
        _ = gettext_for(user.language_code)
        text = _("I send summaries in a private chat: {link}").format(
            link=link(url, _("open the summary"))
        )
        await reply_once(update, context, text, what="summary")
        return
    language = reader_language(article, user.language_code)
    points = await asyncio.to_thread(article.summary_points, language)
    text = article_view.render_summary(article.localized(language), points, language)
    await reply_once(update, context, text, what="summary")
    await services(context).store.record_summary_request(article.id, user.id, language)
