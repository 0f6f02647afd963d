"""Campaigns: one question sent as a native poll to each of several chats.

``/poll`` (an article's poll) and ``/newpoll`` (syntax in bot/polls/newpoll.py) create a
campaign: one poll per chat, checked against every target before anything is sent. The
rest of the feature lives beside it in bot/polls/ (votes, closing, results, export), and
bot/polls/__init__.py lists its handlers and commands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackContext,
    ContextTypes,
)

from bot.admin.auth import admin_or_chat_admin
from bot.admin.chats import (
    Target,
    failure_reason,
    note_failure,
    split_targets,
)
from bot.polls import newpoll, votes
from bot.polls.spec import PollSpec, send_kwargs, validate
from bot.replies import SendKey, reply_once, send_once
from bot.services import services
from bot.texts import Gettext, Refusal, escape, gettext_for
from storage.polls import Campaign

Context = CallbackContext[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened in one target chat: a message id, or why not."""

    target: Target
    message_id: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class CampaignOutcome:
    campaign: Campaign
    deliveries: tuple[Delivery, ...]


def spec_record(spec: PollSpec) -> dict[str, object]:
    """The settings of a spec as JSON-able data, stored with its campaign."""
    record = dataclasses.asdict(spec)
    if spec.close_date is not None:
        record["close_date"] = spec.close_date.isoformat()
    return record


async def send_campaign(
    context: Context,
    spec: PollSpec,
    targets: Sequence[Target],
    *,
    origin: str,
    update_id: int,
    created_by: int | None,
    article_id: str | None = None,
    localize: Callable[[Target], PollSpec] | None = None,
) -> CampaignOutcome:
    """Send one question to every target as a native poll, and record each poll.

    ``origin`` identifies the request (e.g. ``u<update_id>``) and ``update_id`` keys its
    sends: replaying the same update after a crash returns the same campaign and skips
    chats that already got their poll. ``localize`` gives the spec to send to a target
    (its translation), if any.
    """
    svc = services(context)
    campaign = await svc.store.create_campaign(
        spec.question,
        spec.options,
        spec_record(spec),
        article_id=article_id,
        created_by=created_by,
        origin=origin,
    )
    deliveries = [
        await _send_poll(
            context,
            campaign,
            localize(target) if localize else spec,
            target,
            update_id,
        )
        for target in targets
    ]
    return CampaignOutcome(campaign, tuple(deliveries))


async def _send_poll(
    context: Context, campaign: Campaign, spec: PollSpec, target: Target, update_id: int
) -> Delivery:
    """One target's poll, unless a replay of this update finds it sent; its row is written
    before the ledger's record commits, so a poll that went out is never left unrecorded."""
    store = services(context).store

    async def send() -> Message:
        problems = validate(spec, in_channel=target.is_channel, now=datetime.now(UTC))
        if problems:  # checked only if it was not sent before
            raise Refusal(problems[0])
        message: Message = await context.bot.send_poll(target.chat_id, **send_kwargs(spec))
        assert message.poll is not None
        state = votes.poll_state(message.poll)
        await store.add_poll(campaign.id, target.chat_id, message.message_id, state)
        return message

    key = SendKey.of_update(update_id, "poll", target.chat_id)
    try:
        sent = await send_once(context, key, send)
    except Refusal as refusal:
        return Delivery(target, error=refusal.render(target.language))
    except TelegramError as exc:
        await note_failure(context, target.chat_id, exc, update_id=update_id)
        return Delivery(target, error=failure_reason(exc, target.language))
    return Delivery(target, sent.message_id)


# ---------------------------------------------------------------- creating


async def _create(
    context: Context,
    update: Update,
    spec: PollSpec,
    targets: list[Target],
    *,
    article_id: str | None = None,
    localize: Callable[[Target], PollSpec] | None = None,
) -> CampaignOutcome:
    """send_campaign for a command, audited once (a replayed update is not audited again)."""
    store = services(context).store
    user_id = update.effective_user.id if update.effective_user else None
    origin = f"u{update.update_id}"
    fresh = await store.campaign_by_origin(origin) is None
    outcome = await send_campaign(
        context,
        spec,
        targets,
        origin=origin,
        update_id=update.update_id,
        created_by=user_id,
        article_id=article_id,
        localize=localize,
    )
    if fresh:
        sent = [d.target.display for d in outcome.deliveries if d.ok]
        result = "ok" if len(sent) == len(targets) else "partial" if sent else "failed"
        await store.audit(
            user_id,
            "poll.create",
            target=f"#{outcome.campaign.id}",
            result=result,
            detail=f"{spec.question[:200]} -> {', '.join(sent)}",
        )
    return outcome


def _outcome_text(outcome: CampaignOutcome, _: Gettext) -> str:
    """Where the campaign's polls went, what failed, and what to do next."""
    campaign_id = outcome.campaign.id
    sent = [d.target.display for d in outcome.deliveries if d.ok]
    lines = [
        _("Poll #{id} sent to {chats}.").format(id=campaign_id, chats=escape(", ".join(sent)))
        if sent
        else _("Poll #{id} was not sent anywhere.").format(id=campaign_id)
    ]
    lines += [
        _("Not sent to {chat}: {reason}").format(
            chat=escape(d.target.display), reason=escape(d.error or "")
        )
        for d in outcome.deliveries
        if not d.ok
    ]
    if sent:
        lines.append(_("Results: /results {id} · close it: /close {id}").format(id=campaign_id))
    return "\n".join(lines)


@admin_or_chat_admin
async def post_article_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send an article's poll (translated per chat) to the named or default chats."""
    user = update.effective_user
    assert user is not None
    _ = gettext_for(user.language_code)
    refs, words = split_targets(context.args or [])
    library = services(context).library
    article = library.get(words[0]) if words else None
    if article is None or article.poll is None:
        ids = ", ".join(a.id for a in library.articles if a.poll) or "-"
        text = (
            _("Send /poll ARTICLE_ID [@chat ...]. Articles with a poll: {ids}")
            if article is None
            else _("The article “{id}” has no poll.")
        )
        await reply_once(
            update, context, escape(text.format(ids=ids, id=words[0] if words else ""))
        )
        return
    original = article.poll

    def spec_for(target: Target) -> PollSpec:
        return article.localized(target.language).poll or original

    targets, problems = await newpoll.check_targets(
        context, user.id, refs, spec_for, user.language_code
    )
    if problems:
        await reply_once(update, context, newpoll.refusal(problems, _))
        return
    outcome = await _create(
        context, update, original, targets, article_id=article.id, localize=spec_for
    )
    await reply_once(update, context, _outcome_text(outcome, _))


@admin_or_chat_admin
async def new_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Create an ad-hoc poll from one message; nothing is sent unless every chat accepts it."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    _ = gettext_for(user.language_code)
    body = newpoll.command_text(message.text or "")
    if not body.strip() or body.strip().casefold() in {"help", "?", "помощь"}:
        await reply_once(update, context, _(newpoll.HELP))
        return
    request = newpoll.parse(body, services(context).config.bot.tz)
    targets, problems = await newpoll.check_targets(
        context,
        user.id,
        list(request.targets),
        lambda _target: request.spec,
        user.language_code,
    )
    problems = [escape(p.render(user.language_code)) for p in request.problems] + problems
    if problems:
        hint = _("Send /newpoll to see the syntax.")
        await reply_once(update, context, newpoll.refusal(problems, _, hint))
        return
    outcome = await _create(context, update, request.spec, targets)
    await reply_once(update, context, _outcome_text(outcome, _))
