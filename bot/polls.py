"""Polls: campaigns sent to several chats, and every poll state and answer, kept durably."""

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
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ContextTypes, PollAnswerHandler, PollHandler

from bot.chats import Target, failure_reason, note_failure
from bot.config import PrivacyConfig
from bot.pollspec import PollSpec, send_kwargs, validate
from bot.services import services
from storage.polls import Campaign, OptionState, PollState

log = logging.getLogger(__name__)
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
        spec.question, spec.options, spec_record(spec), article_id=article_id,
        created_by=created_by, origin=origin,
    )
    deliveries = [
        await _send_poll(context, campaign, localize(target) if localize else spec, target,
                         f"{origin}:poll:{target.chat_id}")
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
    await svc.store.add_poll(campaign.id, target.chat_id, message.message_id,
                             poll_state(message.poll))
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
    await services(context).store.apply_poll_state(poll_state(update.poll))


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


HANDLERS: list[Any] = [
    PollHandler(record_poll),
    PollAnswerHandler(record_answer),
]


async def on_startup(application: Any) -> None:
    """Close polls whose close date passed while the bot was down."""
