"""/newarticle: compose an article in the private chat, from text, a forwarded post or a link.

The conversation lives in SQLite (``compose_sessions``: a restart keeps it; it expires
after a day, as drafts do): ``/newarticle [@chat…]`` waits for the article; the article
becomes a composed article and a draft of kind "post" whose preview (bot/polls/preview.py)
shows the title, the automatic summary and the post, with Publish, Schedule and Cancel.
Until a button is pressed the admin may send their own summary (one point per line), a poll
in /newpoll syntax (read by the one /newpoll parser, with the same checks), "no poll", or
@chat names. After Schedule, the next message is the time (bot/articles/scheduled.py).
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.admin.auth import admin_or_chat_admin
from bot.admin.chats import split_targets, user_timezone
from bot.articles import compose, library, posting, scheduled
from bot.articles.content import MAX_POINT, MAX_SUMMARY_POINTS, Article
from bot.polls import campaigns, newpoll, preview
from bot.replies import reply_once
from bot.services import services
from bot.texts import N_, Problem, Refusal, escape, gettext_for, translate
from storage.compose import ComposeSession
from storage.drafts import PENDING, SCHEDULED

Context = CallbackContext[Any, Any, Any, Any]

ARTICLE, DRAFT, WHEN = "article", "draft", "when"
NO_POLL = frozenset({"no poll", "без опроса"})
HOW = N_(
    "Send me the article: text (the first line is the title, the rest the body; bold and "
    "links are kept), a post forwarded from a channel or chat, or a link to a web page."
)
CLOSED = N_("Draft #{id} is closed. Send /newarticle to write another article.")
BAD_SUMMARY = N_(
    "A summary is 1 to {points} points (one per line) of at most {chars} characters each."
)
NO_TARGETS = N_("There is no chat to post to: send @chat names first.")
_BULLET = re.compile(r"^[•\-*–]\s*")


@admin_or_chat_admin
async def new_article(update: Update, context: Context) -> None:
    """/newarticle [@chat…]: wait for the article, in this private chat."""
    user = update.effective_user
    assert user is not None
    refs, _words = split_targets(context.args or [])
    await services(context).store.set_compose_session(user.id, ARTICLE, draft_id=None, refs=refs)
    await reply_once(update, context, translate(user.language_code, HOW), plain=True)


async def on_message(update: Update, context: Context) -> None:
    """A message in a private chat: the next step of its author's /newarticle, if any."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    svc = services(context)
    session = await svc.store.compose_session(user.id)
    if session is None:
        return
    if svc.store.now() - session.updated_at >= preview.DRAFT_TTL:
        await svc.store.end_compose_session(user.id)
        return
    try:
        if session.step == ARTICLE:
            await _take_article(update, context, session)
        elif session.step == WHEN:
            await _take_time(update, context, session)
        else:
            await _change_draft(update, context, session)
    except Refusal as refusal:  # bad input: said, and nothing saved
        html = isinstance(refusal, _Refused)  # written out as HTML already
        text = refusal.render(user.language_code)
        await reply_once(update, context, text, plain=not html)


async def _take_article(update: Update, context: Context, session: ComposeSession) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    svc = services(context)
    # A ComposeError or FetchError (a Refusal) goes back to on_message: nothing is saved.
    found = await compose.candidate(message, allow_private=svc.config.fetch.allow_private)
    article_id = await svc.store.add_article(
        title=found.title,
        language=found.language,
        body=found.body,
        source=found.source,
        source_url=found.source_url,
        image_file_id=found.image_file_id,
        image=found.image,
        created_by=user.id,
        origin=f"u{update.update_id}",
    )
    await library.refresh(svc)
    article = svc.library.get(article_id)
    assert article is not None
    targets, skipped = await posting.targets_for(
        context, user.id, session.refs, user.language_code
    )
    draft = await svc.store.create_draft(
        "post",
        [t.chat_id for t in targets],
        created_by=user.id,
        origin=f"u{update.update_id}",
        article_id=article_id,
    )
    await svc.store.set_compose_session(user.id, DRAFT, draft_id=draft.id, refs=session.refs)
    await posting.show_preview(update, context, article, draft, targets, skipped, composed=True)


async def _change_draft(update: Update, context: Context, session: ComposeSession) -> None:
    """A summary, a poll, "no poll" or @chats for the draft; then its preview again."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    svc = services(context)
    draft = await svc.store.draft(session.draft_id) if session.draft_id else None
    article = svc.library.get(draft.article_id) if draft and draft.article_id else None
    if draft is None or draft.state != PENDING or article is None:
        await svc.store.end_compose_session(user.id)
        text = translate(user.language_code, CLOSED, id=session.draft_id or "?")
        await reply_once(update, context, text, plain=True)
        return
    text = (message.text or "").strip()
    refs, words = split_targets(text.split())
    if refs and not words:
        session = ComposeSession(user.id, DRAFT, draft.id, tuple(refs), session.updated_at)
    elif text.casefold() in NO_POLL:
        await svc.store.set_article_poll(article.id, None)
    elif "|" in text:
        refs = await _take_poll(update, context, session, article, text) or list(session.refs)
        session = ComposeSession(user.id, DRAFT, draft.id, tuple(refs), session.updated_at)
    else:
        await svc.store.set_article_summary(article.id, _summary(text))
    targets, skipped = await posting.targets_for(
        context, user.id, session.refs, user.language_code
    )
    await svc.store.set_draft_targets(draft.id, [t.chat_id for t in targets])
    await svc.store.set_compose_session(user.id, DRAFT, draft_id=draft.id, refs=session.refs)
    await library.refresh(svc)
    changed = svc.library.get(article.id)
    assert changed is not None
    await posting.show_preview(update, context, changed, draft, targets, skipped, composed=True)


async def _take_poll(
    update: Update, context: Context, session: ComposeSession, article: Article, text: str
) -> list[str]:
    """Read a poll line with the /newpoll parser and its checks; store it; its @chats."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    _ = gettext_for(user.language_code)
    request = newpoll.parse(text, svc.config.bot.tz)
    refs = list(request.targets) or list(session.refs)
    _targets, problems = await newpoll.check_targets(
        context, user.id, refs, lambda _target: request.spec, user.language_code
    )
    problems = [escape(p.render(user.language_code)) for p in request.problems] + problems
    if problems:
        hint = _("Send /newpoll to see the syntax.")
        raise _Refused(newpoll.refusal(problems, _, hint))
    await svc.store.set_article_poll(article.id, campaigns.spec_record(request.spec))
    return list(request.targets)


class _Refused(Refusal):
    """A refusal already written out (HTML) for the admin."""

    def __init__(self, text: str) -> None:
        super().__init__(Problem(text))
        self.text = text

    def render(self, language: str | None) -> str:
        return self.text


def _summary(text: str) -> list[str]:
    points = [_BULLET.sub("", line).strip() for line in text.splitlines() if line.strip()]
    if not 1 <= len(points) <= MAX_SUMMARY_POINTS or any(len(p) > MAX_POINT for p in points):
        raise compose.ComposeError(
            Problem(BAD_SUMMARY, {"points": MAX_SUMMARY_POINTS, "chars": MAX_POINT})
        )
    return points


async def _take_time(update: Update, context: Context, session: ComposeSession) -> None:
    """The time after Schedule: queue the draft's article, close the draft."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    svc = services(context)
    draft = await svc.store.draft(session.draft_id) if session.draft_id else None
    if draft is None or draft.state != PENDING or draft.article_id is None:
        await svc.store.end_compose_session(user.id)
        text = translate(user.language_code, CLOSED, id=session.draft_id or "?")
        await reply_once(update, context, text, plain=True)
        return
    now = svc.clock.utc()
    zone = await user_timezone(svc, user.id)
    due = scheduled.parse_when(message.text or "", zone, now)
    targets, skipped = await posting.allowed_targets(
        context, user.id, list(draft.targets), user.language_code
    )
    if not targets:
        raise compose.ComposeError(Problem(NO_TARGETS))
    text = await scheduled.queue(
        context,
        draft.article_id,
        targets,
        due,
        user_id=user.id,
        origin=f"d{draft.id}",
        language=user.language_code,
        skipped=skipped,
    )
    await svc.store.set_draft_state(draft.id, SCHEDULED, user.id)
    await svc.store.end_compose_session(user.id)
    await reply_once(update, context, text, plain=True)


async def ask_time(context: Context, user_id: int, draft_id: int, language: str | None) -> str:
    """After Schedule: the next message of this admin is the time; what to ask them."""
    svc = services(context)
    session = await svc.store.compose_session(user_id)
    refs = session.refs if session is not None and session.draft_id == draft_id else ()
    await svc.store.set_compose_session(user_id, WHEN, draft_id=draft_id, refs=refs)
    zone = await user_timezone(svc, user_id)
    return translate(language, scheduled.ASK_TIME, id=draft_id, zone=zone)
