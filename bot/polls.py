"""Polls: campaigns sent to several chats, every poll state and answer kept, closing.

``/poll`` (an article's poll) and ``/newpoll`` (syntax in bot/newpoll.py) create a campaign:
one native poll per chat, checked against every target before anything is sent. ``poll``
and ``poll_answer`` updates are stored as they come, through the pump, idempotently. A job
marks polls closed when their close date passes; ``/close`` stops them at once. Reading
(/polls, /results) lives in bot/results.py, the CSV export in bot/export.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Poll, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    CallbackContext,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
    PollHandler,
    filters,
)

from bot import export, newpoll, results
from bot.auth import admin_or_chat_admin
from bot.chats import (
    Target,
    failure_reason,
    note_failure,
    split_targets,
)
from bot.config import PrivacyConfig
from bot.menu import CommandInfo
from bot.pollspec import PollSpec, send_kwargs, validate
from bot.replies import reply_once
from bot.results import campaign_result, managed_campaign, render_result
from bot.services import Services, of_app, services
from bot.texts import N_, Gettext, escape, gettext_for
from storage import Store
from storage.polls import Campaign, OptionState, PollRecord, PollState

log = logging.getLogger(__name__)
Context = CallbackContext[Any, Any, Any, Any]
EXPIRY_INTERVAL = 60  # seconds between two checks for polls past their close date
CLOSE_USAGE = N_("Send /close POLL_ID (the number in /polls).")
CLOSE_REFUSED = N_("Only the administrators of all its chats can close poll #{id}.")


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
    created_by: int | None,
    article_id: str | None = None,
    localize: Callable[[Target], PollSpec] | None = None,
) -> CampaignOutcome:
    """Send one question to every target as a native poll, and record each poll.

    ``origin`` identifies the request (e.g. ``u<update_id>``): replaying the same update
    after a crash returns the same campaign and skips chats that already got their poll.
    ``localize`` gives the spec to send to a target (its translation), if any.
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
            f"{origin}:poll:{target.chat_id}",
        )
        for target in targets
    ]
    return CampaignOutcome(campaign, tuple(deliveries))


async def _send_poll(
    context: Context, campaign: Campaign, spec: PollSpec, target: Target, key: str
) -> Delivery:
    svc = services(context)
    done = await svc.store.sent(key)
    if done is not None:
        return Delivery(target, done.message_id)
    problems = validate(spec, in_channel=target.is_channel, now=datetime.now(UTC))
    if problems:
        return Delivery(target, error=problems[0].render(target.language))
    try:
        message = await context.bot.send_poll(target.chat_id, **send_kwargs(spec))
    except TelegramError as exc:
        await note_failure(context, target.chat_id, exc)
        return Delivery(target, error=failure_reason(exc, target.language))
    assert message.poll is not None
    await svc.store.add_poll(
        campaign.id, target.chat_id, message.message_id, poll_state(message.poll)
    )
    await svc.store.record_sent(key, target.chat_id, message.message_id)
    return Delivery(target, message.message_id)


def poll_state(poll: Poll) -> PollState:
    """The storage view of a Telegram poll."""
    close_date = int(poll.close_date.timestamp()) if poll.close_date else None
    return PollState(
        poll_id=poll.id,
        question=poll.question,
        options=tuple(
            OptionState(option.persistent_id, option.text, option.voter_count)
            for option in poll.options
        ),
        total_voters=poll.total_voter_count,
        is_closed=poll.is_closed,
        is_anonymous=poll.is_anonymous,
        type=poll.type,
        allows_multiple=poll.allows_multiple_answers,
        close_date=close_date,
    )


def voter_key(voter_id: int, privacy: PrivacyConfig) -> str:
    """How a voter is stored: the Telegram id, or a keyed hash of it (privacy switch)."""
    if not privacy.hash_voters:
        return str(voter_id)
    digest = hmac.new(privacy.hash_key.encode(), str(voter_id).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


async def record_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the latest full state of a poll (counts by persistent_id, closed or not)."""
    assert update.poll is not None
    store = services(context).store
    await store.apply_poll_state(poll_state(update.poll))
    if update.poll.is_closed:
        await close_finished(store, "all polls closed")


async def record_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store a voter's current choice in a public poll; an empty choice retracts it."""
    answer = update.poll_answer
    assert answer is not None
    svc = services(context)
    is_chat = answer.voter_chat is not None
    voter = answer.voter_chat.id if answer.voter_chat else answer.user.id if answer.user else 0
    await svc.store.record_answer(
        answer.poll_id,
        voter_key(voter, svc.config.privacy),
        answer.option_persistent_ids,
        answer.option_ids,
        is_chat=is_chat,
    )


# ---------------------------------------------------------------- closing


async def close_finished(store: Store, reason: str) -> list[int]:
    """Close (and audit) every campaign whose polls are all closed."""
    closed = await store.close_finished_campaigns()
    for campaign_id in closed:
        await store.audit(None, "poll.close", target=f"#{campaign_id}", detail=reason)
    return closed


async def expire_polls(svc: Services) -> list[int]:
    """Mark polls past their close date closed, close the campaigns they finish, and keep
    the snapshot series bounded; return the ids of the campaigns closed."""
    expired = await svc.store.expired_polls()
    if expired:
        await svc.store.mark_polls_closed([poll.poll_id for poll in expired])
    closed = await close_finished(svc.store, "close date reached")
    await svc.store.thin_snapshots()
    return closed


async def expire_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: close what reached its close date (see expire_polls)."""
    await expire_polls(services(context))


async def _stop(context: Context, poll: PollRecord, language: str | None) -> str | None:
    """Stop one poll and keep the final counts Telegram returns; why not, if it failed."""
    store = services(context).store
    assert poll.chat_id is not None and poll.message_id is not None
    failure: str | None = None
    try:
        stopped = await context.bot.stop_poll(poll.chat_id, poll.message_id)
    except TelegramError as exc:
        # Already closed: nothing is lost. Otherwise the poll cannot be reached any more
        # (bot removed...), so its counts cannot change for us either: keep them as final.
        if not (isinstance(exc, BadRequest) and "already" in exc.message.lower()):
            await note_failure(context, poll.chat_id, exc)
            failure = failure_reason(exc, language or "en")
        await store.mark_polls_closed([poll.poll_id])
    else:
        await store.apply_poll_state(poll_state(stopped))
    await store.checkpoint()
    return failure


@admin_or_chat_admin
async def close_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every poll of a campaign, keep the final counts, and show the result."""
    user = update.effective_user
    assert user is not None
    found = await managed_campaign(update, context, CLOSE_USAGE, CLOSE_REFUSED)
    if found is None:
        return
    campaign, polls = found
    _ = gettext_for(user.language_code)
    state = (
        _("Poll #{id} was already closed.") if campaign.is_closed else _("Poll #{id} is closed.")
    )
    lines = [state.format(id=campaign.id)]
    lines += await _stop_all(context, polls, user.language_code)
    store = services(context).store
    if not campaign.is_closed:
        await store.close_campaign(campaign.id)
        await store.audit(user.id, "poll.close", target=f"#{campaign.id}", detail="/close")
    result = await campaign_result(store, campaign.id)
    assert result is not None
    lines += ["", render_result(result, user.language_code)]
    await reply_once(update, context, "\n".join(lines))


async def _stop_all(context: Context, polls: list[PollRecord], language: str | None) -> list[str]:
    """Stop every open poll; a line per chat where that failed."""
    _ = gettext_for(language)
    lines: list[str] = []
    for poll in polls:
        if poll.is_closed or poll.chat_id is None or poll.message_id is None:
            continue
        failure = await _stop(context, poll, language)
        if failure:
            chat = await services(context).store.chat(poll.chat_id)
            name = chat.display if chat else str(poll.chat_id)
            reason = _("Could not stop it in {chat}: {reason}")
            lines.append(reason.format(chat=escape(name), reason=escape(failure)))
    return lines


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


# ---------------------------------------------------------------- wiring

_COMMAND = filters.UpdateType.MESSAGE  # an edited command must not send a poll again

HANDLERS: list[Any] = [
    PollHandler(record_poll),
    PollAnswerHandler(record_answer),
    CommandHandler("poll", post_article_poll, filters=_COMMAND),
    CommandHandler("newpoll", new_poll, filters=_COMMAND),
    CommandHandler("close", close_poll, filters=_COMMAND),
    CommandHandler("polls", results.list_polls, filters=_COMMAND),
    CommandHandler("results", results.show_results, filters=_COMMAND),
    CommandHandler("export", export.send_export, filters=_COMMAND),
]

COMMANDS = [
    CommandInfo(
        "poll",
        N_("Send an article's poll to channels"),
        "/poll moscow-plant-reboot @mychannel",
        True,
        chat_admin=True,
    ),
    CommandInfo(
        "newpoll",
        N_("Create a poll: question | options | settings"),
        "/newpoll Best car? | Lada | Moskvich | multi 2d",
        True,
        chat_admin=True,
    ),
    CommandInfo("polls", N_("Open and recently closed polls"), "/polls", True, chat_admin=True),
    CommandInfo("results", N_("Results of a poll, per chat and combined"), "/results 3", False),
    CommandInfo("close", N_("Close a poll in every chat"), "/close 3", True, chat_admin=True),
    CommandInfo(
        "export", N_("Download a poll's results as CSV"), "/export 3", True, chat_admin=True
    ),
]


async def on_startup(application: Any) -> None:
    """Close polls whose close date passed while the bot was down; then check every minute."""
    await expire_polls(of_app(application))
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            expire_job, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="polls.expire"
        )
