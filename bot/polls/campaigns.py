"""Campaigns: one question sent as a native poll to each of several chats.

``/poll`` (an article's poll) and ``/newpoll`` (syntax in bot/polls/newpoll.py) create a
campaign: one poll per chat, checked against every target before anything is sent, then
previewed (bot/polls/preview.py: a draft that bot/drafts/ publishes on Publish) unless the
command ends with ``now`` or ``[bot] preview = false``. The rest of the feature lives
beside it in bot/polls/ (votes, closing, results, export), and bot/polls/__init__.py lists
its handlers and commands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError, TimedOut
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
from bot.polls import newpoll, preview, reminders, votes
from bot.polls.spec import PollSpec, send_kwargs, validate
from bot.replies import SendKey, reply_once, send_once
from bot.services import services
from bot.texts import N_, Gettext, Refusal, escape, gettext_for
from storage.outbox import PollIntent
from storage.polls import Campaign

Context = CallbackContext[Any, Any, Any, Any]


UNCONFIRMED = N_(
    "Not confirmed for {chat}: Telegram did not answer in time. If the poll arrived there, "
    "its votes are counted all the same."
)
REPEATED = N_(
    "{chat}: the bot restarted while sending there, so the poll may show twice; the votes "
    "of both are counted."
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened in one target chat: a message id, or why not."""

    target: Target
    message_id: int | None = None
    error: str | None = None
    unconfirmed: bool = False  # Telegram did not answer in time: it may have arrived
    repeated: bool = False  # sent again after a crash: it may show twice there

    @property
    def ok(self) -> bool:
        return self.error is None and not self.unconfirmed


@dataclass(frozen=True, slots=True)
class CampaignOutcome:
    campaign: Campaign
    deliveries: tuple[Delivery, ...]


def spec_record(spec: PollSpec) -> dict[str, object]:
    """The settings of a spec as JSON-able data, stored with its campaign (or draft)."""
    record = dataclasses.asdict(spec)
    if spec.close_date is not None:
        record["close_date"] = spec.close_date.isoformat()
    return record


def spec_of_record(record: dict[str, Any]) -> PollSpec:
    """The spec that ``spec_record`` stored (a draft's poll)."""
    values = dict(record)
    values["options"] = tuple(values["options"])
    values["correct_option_ids"] = tuple(values.get("correct_option_ids") or ())
    values["country_codes"] = tuple(values.get("country_codes") or ())
    close = values.get("close_date")
    values["close_date"] = None if close is None else datetime.fromisoformat(str(close))
    return PollSpec(**values)


async def send_campaign(
    context: Context,
    spec: PollSpec,
    targets: Sequence[Target],
    *,
    origin: str,
    created_by: int | None,
    update_id: int | None = None,
    article_id: str | None = None,
    localize: Callable[[Target], PollSpec] | None = None,
) -> CampaignOutcome:
    """Send one question to every target as a native poll, and record each poll.

    ``origin`` names the request (``u<update_id>`` for a command, ``d<draft_id>`` for a
    draft's Publish): it is the campaign's origin and the origin of its sends' ledger keys,
    so handling the same request again after a crash (or a second press) returns the same
    campaign and skips chats that already got their poll. ``update_id`` (the update being
    handled) makes a "cannot post there any more" notice replay-safe. ``localize`` gives the
    spec to send to a target (its translation), if any.
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
            SendKey(origin, "poll", target.chat_id),
            update_id,
        )
        for target in targets
    ]
    return CampaignOutcome(campaign, tuple(deliveries))


async def _send_poll(
    context: Context,
    campaign: Campaign,
    spec: PollSpec,
    target: Target,
    key: SendKey,
    update_id: int | None,
) -> Delivery:
    """One target's poll, unless the ledger has ``key`` (it was sent before); its row is
    written before the ledger's record commits, so a poll that went out is never left
    unrecorded."""
    store = services(context).store

    async def send() -> Message:
        moment = services(context).clock.utc()
        problems = validate(spec, in_channel=target.is_channel, now=moment)
        if problems:  # checked only if it was not sent before
            raise Refusal(problems[0])
        message: Message = await context.bot.send_poll(target.chat_id, **send_kwargs(spec))
        assert message.poll is not None
        state = votes.poll_state(message.poll)
        await store.add_poll(campaign.id, target.chat_id, message.message_id, state)
        return message

    intent = PollIntent(campaign.id, spec.question, spec.options)
    try:
        sent = await send_once(context, key, send, poll=intent)
    except Refusal as refusal:
        return Delivery(target, error=refusal.render(target.language))
    except TimedOut:  # not a refusal: the intent stays open, and the poll is adopted if
        return Delivery(target, unconfirmed=True)  # Telegram reports it (storage/outbox.py)
    except TelegramError as exc:
        await note_failure(context, target.chat_id, exc, update_id=update_id)
        return Delivery(target, error=failure_reason(exc, target.language))
    return Delivery(target, sent.message_id, repeated=sent.repeated)


# ---------------------------------------------------------------- creating


async def publish_campaign(
    context: Context,
    spec: PollSpec,
    targets: Sequence[Target],
    *,
    origin: str,
    user_id: int | None,
    update_id: int | None,
    article_id: str | None = None,
    localize: Callable[[Target], PollSpec] | None = None,
) -> CampaignOutcome:
    """send_campaign for an admin's request, audited once (a request handled again, after a
    crash or a second press of Publish, is not audited again)."""
    store = services(context).store
    fresh = await store.campaign_by_origin(origin) is None
    outcome = await send_campaign(
        context,
        spec,
        targets,
        origin=origin,
        update_id=update_id,
        created_by=user_id,
        article_id=article_id,
        localize=localize,
    )
    await reminders.schedule_all(context, outcome.campaign.id)
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


def outcome_text(outcome: CampaignOutcome, _: Gettext) -> str:
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
        if d.error is not None
    ]
    lines += [
        _(UNCONFIRMED).format(chat=escape(d.target.display))
        for d in outcome.deliveries
        if d.unconfirmed
    ]
    lines += [
        _(REPEATED).format(chat=escape(d.target.display)) for d in outcome.deliveries if d.repeated
    ]
    if sent:
        lines.append(_("Results: /results {id} · close it: /close {id}").format(id=campaign_id))
    return "\n".join(lines)


@admin_or_chat_admin
async def post_article_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send an article's poll (translated per chat) to the named or default chats, after a
    preview unless ``now`` (or ``[bot] preview = false``)."""
    user = update.effective_user
    assert user is not None
    _ = gettext_for(user.language_code)
    refs, words = split_targets(context.args or [])
    words, at_once = preview.skips_preview(context, words)
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
    request = Request("poll", original, targets, spec_for, article.id)
    await publish_or_preview(update, context, request, at_once)


@admin_or_chat_admin
async def new_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Create an ad-hoc poll from one message; nothing is sent unless every chat accepts it
    (and, unless ``now`` or ``[bot] preview = false``, until the admin presses Publish)."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    _ = gettext_for(user.language_code)
    body = newpoll.command_text(message.text or "")
    if not body.strip() or body.strip().casefold() in {"help", "?", "помощь"}:
        await reply_once(update, context, _(newpoll.HELP))
        return
    request = newpoll.parse(body, services(context).config.bot.tz)
    at_once = request.now or not services(context).config.bot.preview
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
    spec = request.spec
    await publish_or_preview(
        update, context, Request("newpoll", spec, targets, lambda _t: spec), at_once
    )


@dataclass(frozen=True, slots=True)
class Request:
    """A poll an admin asked for, checked: what goes where."""

    kind: str  # "poll" (an article's) or "newpoll"
    spec: PollSpec
    targets: list[Target]
    spec_for: Callable[[Target], PollSpec]
    article_id: str | None = None


async def publish_or_preview(
    update: Update, context: Context, request: Request, at_once: bool
) -> None:
    """Publish now (``now``, or previews off), or store a draft and show its preview."""
    user = update.effective_user
    assert user is not None
    store = services(context).store
    draft = await store.create_draft(
        request.kind,
        [t.chat_id for t in request.targets],
        created_by=user.id,
        origin=f"u{update.update_id}",
        article_id=request.article_id,
        spec=spec_record(request.spec),
    )
    if at_once:  # the polls go out apart from this update (bot/drafts/publishing.py)
        await preview.publish_at_once(update, context, draft, request.targets, what="reply")
        return
    before = await store.question_sent_to(request.spec.question)
    shown = preview.poll_shown(context, request.targets, request.spec_for, user.language_code)
    where = await preview.target_lines(context, request.targets, before, user.language_code)
    await preview.offer(update, context, draft, shown, where)
