"""Posting articles: an article and its poll to channels (/post), and the library (/articles).

``/post`` first shows the admin a preview (a draft, bot/polls/preview.py) unless it ends
with ``now`` or ``[bot] preview = false``; publishing (then, or on Publish) sends each
target the article (split between paragraphs, with a "Get a summary" deep link on the last
part) and then the article's poll, all polls as one campaign. Every message is recorded
under the request's origin, so a replayed ``/post`` (or a second Publish) posts nothing
twice.
``/articles`` lists the library. What readers get (the greeting, ``/start s-<id>`` and
``/summary``) lives in bot/articles/readers.py; bot/articles/__init__.py lists the handlers.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError, TimedOut
from telegram.ext import ContextTypes
from telegram.helpers import create_deep_linked_url

from bot.admin import chats
from bot.admin.auth import admin_only, admin_or_chat_admin, may_manage, target_refs
from bot.admin.chats import Target
from bot.articles import scheduled
from bot.articles import view as article_view
from bot.articles.content import Article
from bot.polls import campaigns as polls
from bot.polls import preview
from bot.replies import (
    SendKey,
    Sent,
    already_sent,
    reply_key,
    reply_once,
    reply_parts,
    send_once,
)
from bot.services import Services, services
from bot.texts import ECHO_CHARS, N_, Gettext, bold, escape, gettext_for, link, shorten, translate
from storage.drafts import Draft

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
SUMMARY_BUTTON = N_("No time to read? Get a summary")
NOT_CONFIRMED = N_("not confirmed: Telegram did not answer in time, it may have arrived")
POLL_NOT_CONFIRMED = N_(
    "the poll is not confirmed: Telegram did not answer in time. If it arrived, its votes "
    "are counted all the same."
)
REPEATED = N_("the bot restarted while posting here: a message may show twice")
SOURCES = {
    "file": N_("a file in content/"),
    "text": N_("text sent in Telegram"),
    "forward": N_("a forwarded message"),
    "link": N_("a link"),
}


# ---------------------------------------------------------------- posting


@dataclass(frozen=True, slots=True)
class _Posted:
    """What one target got: the article's message ids or why not, and how its poll went."""

    target: Target
    message_ids: tuple[int, ...] = ()
    error: str | None = None
    poll_error: str | None = None
    poll_unconfirmed: bool = False  # Telegram did not answer in time: it may have arrived
    repeated: bool = False  # a message sent again after a crash: it may show twice

    @property
    def ok(self) -> bool:
        return self.error is None


@admin_or_chat_admin
async def post_article(update: Update, context: Context) -> None:
    """Post an article, then its poll, to channels: /post ARTICLE_ID [@channel ...] [now].

    The admin first gets a preview with Publish and Cancel (bot/polls/preview.py), unless
    the command ends with ``now`` or ``[bot] preview = false``."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    lang = user.language_code
    refs, words = chats.split_targets(context.args or [])
    words, when = scheduled.split_when(words)
    words, at_once = preview.skips_preview(context, words)
    problem = _post_problem(svc, words, lang)
    if problem is not None:
        await reply_once(update, context, problem, plain=True)
        return
    article = svc.library.get(words[0])
    assert article is not None
    report = reply_key(update, "post-report")
    if report is not None and await already_sent(context, report):
        return  # a replay of a /post that was handled to the end
    targets, skipped = await targets_for(context, user.id, refs, lang)
    if not targets and not skipped:
        text = translate(
            lang,
            N_("There is no channel to post to: name one, e.g. {example}"),
            example=f"/post {article.id} @mychannel",
        )
        await reply_once(update, context, text, plain=True)
        return
    if targets and when is not None:
        await _queue(update, context, article, targets, skipped, when)
        return
    if targets and not at_once:
        await _offer(update, context, article, targets, skipped)
        return
    if targets:  # the sends go out apart from this update (bot/drafts/publishing.py)
        draft = await svc.store.create_draft(
            "post",
            [t.chat_id for t in targets],
            created_by=user.id,
            origin=f"u{update.update_id}",
            article_id=article.id,
        )
        await preview.publish_at_once(
            update, context, draft, targets, what="post-report", skipped=skipped
        )
        return
    text = await publish_article(  # nowhere to post: the report alone
        context,
        article,
        targets,
        skipped,
        origin=f"u{update.update_id}",
        user_id=user.id,
        update_id=update.update_id,
        lang=lang,
    )
    await reply_once(update, context, text, what="post-report")


async def _queue(
    update: Update,
    context: Context,
    article: Article,
    targets: Sequence[Target],
    skipped: Sequence[tuple[str, str]],
    when: str,
) -> None:
    """/post ID [@chat…] at TIME (or in 2h): store it for its time (bot/articles/scheduled)."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    try:
        zone = await chats.user_timezone(svc, user.id)
        due = scheduled.parse_when(when, zone, svc.clock.utc())
    except scheduled.WhenError as exc:
        await reply_once(update, context, exc.render(user.language_code), plain=True)
        return
    text = await scheduled.queue(
        context,
        article.id,
        targets,
        due,
        user_id=user.id,
        origin=f"u{update.update_id}",
        language=user.language_code,
        skipped=skipped,
    )
    await reply_once(update, context, text, plain=True)


async def publish_article(
    context: Context,
    article: Article,
    targets: Sequence[Target],
    skipped: Sequence[tuple[str, str]],
    *,
    origin: str,
    user_id: int,
    update_id: int | None,
    lang: str | None,
) -> str:
    """Send the article and then its poll to every target, record the posts, and return
    the admin's report. ``origin`` (``u<update id>`` for /post ... now, ``d<draft id>`` for
    a draft's Publish) keys every send: handling the same request again sends only what
    did not go out yet."""
    svc = services(context)
    posted = [await _send_article(context, article, t, origin, update_id, lang) for t in targets]
    campaign_id, posted = await _send_article_campaign(
        context, article, posted, origin=origin, update_id=update_id, user_id=user_id
    )
    for item in (item for item in posted if item.ok):
        language = article.localized(item.target.language).language
        await svc.store.record_post(
            article.id,
            item.target.chat_id,
            language=language,
            message_ids=item.message_ids,
            campaign_id=campaign_id,
            posted_by=user_id,
            origin=f"{origin}:post:{item.target.chat_id}",
        )
    await _audit(svc, user_id, article, posted, skipped)
    return _report(article, posted, skipped, lang)


async def _offer(
    update: Update,
    context: Context,
    article: Article,
    targets: Sequence[Target],
    skipped: Sequence[tuple[str, str]],
) -> None:
    """Store the /post as a draft and show its preview."""
    user = update.effective_user
    assert user is not None
    draft = await services(context).store.create_draft(
        "post",
        [t.chat_id for t in targets],
        created_by=user.id,
        origin=f"u{update.update_id}",
        article_id=article.id,
    )
    await show_preview(update, context, article, draft, targets, skipped)


async def show_preview(
    update: Update,
    context: Context,
    article: Article,
    draft: Draft,
    targets: Sequence[Target],
    skipped: Sequence[tuple[str, str]],
    *,
    composed: bool = False,
) -> None:
    """The preview of an article's draft: the post as each language's chats will get it
    (a photo first when it has a lead image), the poll, and where (with a warning where the
    article went before); a ``composed`` one (/newarticle) shows its summary too."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    shown: list[preview.Shown] = []
    if composed:
        shown.append(_summary_shown(article, user.language_code))
    photo = await image_of(svc, article)
    groups = preview.by_language(targets) or {article.language: []}
    for language, group in groups.items():
        heading = preview.for_chats(group, len(groups), user.language_code)
        if heading:
            shown.append(preview.Shown(heading.rstrip("\n")))
        parts = article_view.render_post(article.localized(language))
        button = summary_button(context.bot.username, article.id, language)
        shown += [
            preview.Shown(
                text,
                button if index == len(parts) - 1 else None,
                photo=photo if index == 0 else None,
            )
            for index, text in enumerate(parts)
        ]
    original = article.poll
    if original is not None:
        shown += preview.poll_shown(
            context,
            targets,
            lambda target: article.localized(target.language).poll or original,
            user.language_code,
        )
    before = await svc.store.article_posted_to(article.id)
    where = await preview.target_lines(context, targets, before, user.language_code)
    left_out = [f"{escape(chat)}: {escape(reason)}" for chat, reason in skipped]
    notes = [escape(translate(user.language_code, COMPOSE_CHANGES))] if composed else []
    await preview.offer(
        update, context, draft, shown, where, skipped=left_out, schedule=True, notes=notes
    )


COMPOSE_CHANGES = N_(
    "You may now send your own summary (one point per line), a poll as in /newpoll "
    "(Question | a | b | settings) or “no poll”, or @chat names; then press Publish, "
    "Schedule or Cancel."
)


def _summary_shown(article: Article, language: str | None) -> preview.Shown:
    localized = article.localized(article.language)
    points = article.summary_points(article.language)
    return preview.Shown(article_view.render_summary(localized, points, language or "en"))


async def image_of(svc: Services, article: Article) -> str | bytes | None:
    """What to send as an article's photo: Telegram's file id once known, else the bytes."""
    if not article.has_image:
        return None
    file_id, data = await svc.store.article_image(article.id)
    return file_id or data


def _post_problem(svc: Services, words: Sequence[str], lang: str | None) -> str | None:
    """What is wrong with a /post command before anything is sent, if anything."""
    _ = gettext_for(lang)
    if not words:
        return _("Usage: /post ARTICLE_ID [@channel ...]. The articles: {ids}").format(
            ids=article_view.article_ids(svc.library)
        )
    if svc.library.get(words[0]) is None:
        return _("There is no article {id}. The articles: {ids}").format(
            id=shorten(words[0], ECHO_CHARS), ids=article_view.article_ids(svc.library)
        )
    if len(words) > 1:
        return _("I did not understand {words}: name channels as @username or -100… ids.").format(
            words=shorten(" ".join(words[1:]), ECHO_CHARS)
        )
    return None


def source_name(article: Article, _: Gettext) -> str:
    """Where an article came from, in words."""
    known = SOURCES.get(article.source)
    return _(known) if known else article.source


async def targets_for(
    context: Context, user_id: int, refs: Sequence[str], lang: str | None
) -> tuple[list[Target], list[tuple[str, str]]]:
    """The targets this user may post to, and the others with the reason."""
    return await allowed_targets(context, user_id, await target_refs(context, user_id, refs), lang)


async def allowed_targets(
    context: Context, user_id: int, wanted: Sequence[str | int], lang: str | None
) -> tuple[list[Target], list[tuple[str, str]]]:
    """Of these chats, the targets (configured or approved) that this user manages, and the
    others with the reason: checked when a post is asked for and again when it goes out."""
    targets, errors = await chats.resolve_targets(context, wanted)
    skipped = [(error.ref, error.problem.render(lang)) for error in errors]
    allowed: list[Target] = []
    for target in targets:
        if await may_manage(context, user_id, target.chat_id):
            allowed.append(target)
        else:
            reason = translate(lang, N_("you are not an administrator of this chat"))
            skipped.append((target.display, reason))
    return allowed, skipped


def summary_button(bot_username: str, article_id: str, language: str) -> InlineKeyboardMarkup:
    """The "Get a summary" button: a deep link that opens the bot with /start s-<id>."""
    url = create_deep_linked_url(bot_username, article_view.summary_payload(article_id))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(translate(language, SUMMARY_BUTTON), url=url)]]
    )


async def _send_article(
    context: Context,
    article: Article,
    target: Target,
    origin: str,
    update_id: int | None,
    lang: str | None,
) -> _Posted:
    """Send every part of the article to one target (the first as a photo with its caption
    when it has a lead image); parts sent before (under ``origin``) are skipped."""
    parts = article_view.render_post(article.localized(target.language))
    button = summary_button(context.bot.username, article.id, target.language)
    ids: list[int] = []
    repeated = False
    for index, text in enumerate(parts):
        key = SendKey(origin, "article", target.chat_id, index)
        markup = button if index == len(parts) - 1 else None
        photo = await image_of(services(context), article) if index == 0 else None
        try:
            sent = await _send_part(context, key, target, text, markup, photo)
        except TimedOut:  # not refused: it may have arrived, so it is not sent again
            error = translate(lang, NOT_CONFIRMED)
            return _Posted(target, tuple(ids), error=error, repeated=repeated)
        except TelegramError as exc:
            log.warning("posting %s to %s failed: %s", article.id, target.chat_id, exc)
            await chats.note_failure(context, target.chat_id, exc, update_id=update_id)
            error = chats.failure_reason(exc, lang or "en")
            return _Posted(target, tuple(ids), error=error, repeated=repeated)
        repeated = repeated or sent.repeated
        if isinstance(photo, bytes) and sent.message is not None and sent.message.photo:
            # Telegram keeps the image now: later posts send its file id, not the bytes.
            file_id = sent.message.photo[-1].file_id
            await services(context).store.set_article_image_file_id(article.id, file_id)
        if sent.message_id is not None:
            ids.append(sent.message_id)
    return _Posted(target, tuple(ids), repeated=repeated)


async def _send_part(
    context: Context,
    key: SendKey,
    target: Target,
    text: str,
    markup: InlineKeyboardMarkup | None,
    photo: str | bytes | None,
) -> Sent:
    """Send one part; a lead image Telegram refuses is left out (the caption goes as text)."""
    try:
        return await send_once(context, key, _sender(context, target, text, markup, photo))
    except BadRequest as exc:
        if photo is None:
            raise
        log.warning("lead image refused in %s (%s): posting without it", target.chat_id, exc)
    return await send_once(context, key, _sender(context, target, text, markup, None))


def _sender(
    context: Context,
    target: Target,
    text: str,
    markup: InlineKeyboardMarkup | None,
    photo: str | bytes | None,
) -> Callable[[], Awaitable[Message]]:
    if photo is None:
        return functools.partial(
            context.bot.send_message, target.chat_id, text, reply_markup=markup
        )
    return functools.partial(
        context.bot.send_photo, target.chat_id, photo, caption=text, reply_markup=markup
    )


async def _send_article_campaign(
    context: Context,
    article: Article,
    posted: list[_Posted],
    *,
    origin: str,
    update_id: int | None,
    user_id: int,
) -> tuple[int | None, list[_Posted]]:
    """The article's poll to every target that got the article, as one campaign."""
    spec = article.poll
    reached = [item.target for item in posted if item.ok]
    if spec is None or not reached:
        return None, posted
    original = spec
    outcome = await polls.send_campaign(
        context,
        spec,
        reached,
        origin=origin,
        update_id=update_id,
        created_by=user_id,
        article_id=article.id,
        localize=lambda target: article.localized(target.language).poll or original,
    )
    polls_sent = {d.target.chat_id: d for d in outcome.deliveries}
    return outcome.campaign.id, [
        _with_poll(item, polls_sent[item.target.chat_id])
        if item.target.chat_id in polls_sent
        else item
        for item in posted
    ]


def _with_poll(item: _Posted, delivery: polls.Delivery) -> _Posted:
    """What one target got, with how its poll went."""
    return dataclasses.replace(
        item,
        poll_error=delivery.error,
        poll_unconfirmed=delivery.unconfirmed,
        repeated=item.repeated or delivery.repeated,
    )


async def _audit(
    svc: Services,
    user_id: int,
    article: Article,
    posted: Sequence[_Posted],
    skipped: Sequence[tuple[str, str]],
) -> None:
    done = [item.target.display for item in posted if item.ok]
    failed = [item.target.display for item in posted if not item.ok] + [r for r, _ in skipped]
    result = "ok" if not failed else "partial" if done else "failed"
    detail = f"{article.id}: posted to {', '.join(done) or 'none'}"
    if failed:
        detail += f"; not posted to {', '.join(failed)}"
    await svc.store.audit(
        user_id, "post", target=", ".join(done + failed), result=result, detail=detail
    )


def message_link(target: Target, message_id: int) -> str | None:
    """The t.me link of a message in a channel or supergroup, when there is one."""
    if target.display.startswith("@"):
        return f"https://t.me/{target.display[1:]}/{message_id}"
    chat = str(target.chat_id)
    return f"https://t.me/c/{chat[4:]}/{message_id}" if chat.startswith("-100") else None


def _report(
    article: Article,
    posted: Sequence[_Posted],
    skipped: Sequence[tuple[str, str]],
    lang: str | None,
) -> str:
    """The admin's one reply: each channel, posted (with a link) or not and why."""
    _ = gettext_for(lang)
    lines = [_("Posting {article}:").format(article=bold(article.localized(lang).title))]
    lines += [_posted_line(item, _) for item in posted if item.ok]
    failed = [(item.target.display, item.error or "") for item in posted if not item.ok]
    for chat, reason in [*failed, *skipped]:
        text = _("{chat}: not posted: {reason}").format(chat=escape(chat), reason=escape(reason))
        lines.append(f"• {text}")
    return "\n".join(lines)


def _posted_line(item: _Posted, _: Gettext) -> str:
    first = item.message_ids[0]
    ref = _("message {id}").format(id=first)
    url = message_link(item.target, first)
    chat = escape(item.target.display)
    line = "• " + _("{chat}: posted, {message}").format(
        chat=chat, message=link(url, ref) if url else escape(ref)
    )
    if item.poll_error:
        reason = escape(item.poll_error)
        line += "\n  " + _("the poll was not sent: {reason}").format(reason=reason)
    if item.poll_unconfirmed:
        line += "\n  " + escape(_(POLL_NOT_CONFIRMED))
    if item.repeated:
        line += "\n  " + escape(_(REPEATED))
    return line


# ---------------------------------------------------------------- the library


@admin_only
async def list_articles(update: Update, context: Context) -> None:
    """List the content library: id, title, languages, poll, times posted."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    svc = services(context)
    _ = gettext_for(user.language_code if user else None)
    library = svc.library
    counts = await svc.store.post_counts()
    lines = [bold(_("Articles: {count}").format(count=len(library.articles)))]
    lines += [_article_line(a, counts.get(a.id, 0), _) for a in library.articles]
    if not library.articles:
        empty = _("The library is empty: add .toml files to {folder}.")
        lines.append(escape(empty.format(folder=svc.config.bot.content_dir)))
    if library.errors:
        mistakes = _("Mistakes in content files: {count} (the log names each one).")
        lines.append(escape(mistakes.format(count=len(library.errors))))
    await reply_parts(update, context, lines, what="articles")


def _article_line(article: Article, times_posted: int, _: Gettext) -> str:
    languages = article.language
    if article.translations:
        languages += f" (+ {', '.join(sorted(article.translations))})"
    facts = _("language: {languages} · poll: {poll} · posted: {count} · from: {source}").format(
        languages=languages,
        poll=_("yes") if article.poll else _("no"),
        count=times_posted,
        source=source_name(article, _),
    )
    return f"• <code>{escape(article.id)}</code> — {escape(article.title)}\n  {escape(facts)}"
