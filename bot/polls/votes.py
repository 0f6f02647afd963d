"""Votes as they arrive: ``poll`` and ``poll_answer`` updates stored through the pump.

These two handlers are the hot path of the bot (see bench/ingest.py): each stores what
Telegram says, idempotently, so a batch replayed after a crash changes nothing. A poll
update that says its poll closed (Telegram's, with the final counts) closes the campaigns it
finishes and claims their final result posts (bot/polls/final.py), sent apart from here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Poll, Update
from telegram.ext import CallbackContext, ContextTypes

from bot.config import PrivacyConfig
from bot.polls import final
from bot.services import Services, services
from storage import Store
from storage.polls import OptionState, PollState

Context = CallbackContext[Any, Any, Any, Any]
MAX_INT = 2**63 - 1  # SQLite's INTEGER


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


class _OptionLike(Protocol):
    @property
    def persistent_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def voter_count(self) -> int: ...


class PollLike(Protocol):
    """A poll: PTB's ``Poll`` or the fast path's (bot/fastpath.py)."""

    @property
    def id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def options(self) -> Sequence[_OptionLike]: ...
    @property
    def total_voter_count(self) -> int: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    @property
    def type(self) -> str: ...
    @property
    def allows_multiple_answers(self) -> bool: ...


class AnswerLike(Protocol):
    """A poll answer: PTB's ``PollAnswer`` or the fast path's (bot/fastpath.py)."""

    @property
    def poll_id(self) -> str: ...
    @property
    def voter_chat(self) -> _HasId | None: ...
    @property
    def user(self) -> _HasId | None: ...
    @property
    def option_ids(self) -> Sequence[int]: ...
    @property
    def option_persistent_ids(self) -> Sequence[str]: ...


def poll_state(poll: Poll) -> PollState:
    """The storage view of PTB's Poll."""
    close_date = int(poll.close_date.timestamp()) if poll.close_date else None
    return state_of(poll, close_date)


def state_of(poll: PollLike, close_date: int | None) -> PollState:
    """The storage view of a poll, PTB's or the fast path's, with its close time."""
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
    await store_poll(context, poll_state(update.poll))


async def record_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store a voter's current choice in a public poll; an empty choice retracts it."""
    assert update.poll_answer is not None
    await store_answer(services(context), update.poll_answer)


async def store_poll(context: Context, state: PollState) -> None:
    """The one way a poll update is stored, from either path: its state, and if it says
    the poll closed, the close of the campaigns it finishes and their final posts."""
    store = services(context).store
    _check_storable(
        state.poll_id,
        state.question,
        state.type,
        state.total_voters,
        state.is_closed,
        state.is_anonymous,
        state.allows_multiple,
    )
    if state.close_date is not None:
        _check_storable(state.close_date)
    for option in state.options:
        _check_storable(option.persistent_id, option.text, option.voter_count)
    await store.apply_poll_state(state)
    if state.is_closed:
        closed = await close_finished(store, "all polls closed")
        await final.claim(context, closed)
        if closed:
            final.kick(context)


async def store_answer(svc: Services, answer: AnswerLike) -> None:
    """The one way a poll answer is stored, from either path (see ``record_answer``)."""
    is_chat = answer.voter_chat is not None
    voter = answer.voter_chat.id if answer.voter_chat else answer.user.id if answer.user else 0
    _check_storable(answer.poll_id, *answer.option_persistent_ids, *answer.option_ids)
    await svc.store.record_answer(
        answer.poll_id,
        voter_key(voter, svc.config.privacy),
        answer.option_persistent_ids,
        answer.option_ids,
        is_chat=is_chat,
    )


def _check_storable(*values: object) -> None:
    """Refuse (as the update's failure: a dead letter) what a NOT NULL column cannot hold.
    Votes are written when the batch commits: one such value there would fail the batch."""
    for value in values:
        if isinstance(value, int) and not -MAX_INT - 1 <= value <= MAX_INT:
            raise OverflowError(f"{value} does not fit SQLite's INTEGER")
        if not isinstance(value, int | float | str):
            raise TypeError(f"cannot store {type(value).__name__}: {value!r:.80}")
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate raises here, not at the batch's commit


async def close_finished(store: Store, reason: str) -> list[int]:
    """Close (and audit) every campaign whose polls are all closed."""
    closed = await store.close_finished_campaigns()
    for campaign_id in closed:
        await store.audit(None, "poll.close", target=f"#{campaign_id}", detail=reason)
    return closed
