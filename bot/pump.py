"""The durable update loop: getUpdates -> handle each update -> commit batch + offset.

PTB's own Updater confirms a batch before it is handled and retries forever a batch it
cannot parse; this pump does neither. It fetches raw JSON, parses each update on its own,
runs it through ``Application.process_update`` inside a savepoint, and commits the whole
batch's writes together with the next offset. Only then does it fetch again, which is
what confirms the batch to Telegram. An update that cannot be parsed or whose handler
fails goes to the dead-letter table and the pump moves on; ``replay`` runs one through
the handlers again once its cause is fixed (``pollbot dead-letters replay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import random
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from bot import fastpath
from bot.group_commit import GroupCommit
from storage import Store

log = logging.getLogger(__name__)

MAX_BATCH = 100
# What the handlers use: commands (new messages only), poll states and answers, the bot's
# membership, and presses of a preview's Publish / Cancel. Nothing else is fetched, parsed
# and dispatched for nothing.
ALLOWED_UPDATES = ("message", "poll", "poll_answer", "my_chat_member", "callback_query")

# Set by the pump around one update; the application's error handler reports into it.
_handler_errors: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "pollbot_handler_errors", default=None
)


def report_handler_error(error: BaseException) -> None:
    """Tell the pump that the update in hand failed (called by the error handler)."""
    errors = _handler_errors.get()
    if errors is not None:
        errors.append(error)


class RawUpdatesBot(ExtBot[Any]):
    """ExtBot that can fetch updates as raw JSON, so each one is parsed on its own."""

    async def get_updates_raw(
        self,
        offset: int | None,
        long_poll: int,
        limit: int = MAX_BATCH,
        allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    ) -> list[dict[str, Any]]:
        read_timeout = (self._request[0].read_timeout or 0) + long_poll
        result = await self._post(
            "getUpdates",
            {
                "offset": offset,
                "timeout": long_poll,
                "limit": limit,
                "allowed_updates": list(allowed_updates),
            },
            read_timeout=read_timeout,
        )
        return list(result or [])


@dataclass
class PumpStats:
    batches: int = 0
    updates: int = 0
    dead_letters: int = 0
    fast: int = 0  # votes stored by the fast path


class UpdatePump:
    """Runs updates through the application, durably."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        store: Store,
        *,
        timeout: int = 30,
        limit: int = MAX_BATCH,
        on_caught_up: Callable[[], Awaitable[None]] | None = None,
        fast_path: bool = True,
    ) -> None:
        self.application = application
        self.store = store
        self.timeout = timeout
        self.limit = limit
        self.stats = PumpStats()
        self.on_caught_up = on_caught_up
        self.caught_up = False
        self._delivered = GroupCommit(self._commit_delivered, limit)
        # Votes skip PTB (bot/fastpath.py); off, every update goes through PTB (tests, bench).
        self.fast_path = fast_path
        self._context: CallbackContext[Any, Any, Any, Any] | None = None

    async def mark_caught_up(self) -> None:
        """The updates pending at start are applied: run ``on_caught_up``, once."""
        if self.caught_up:
            return
        self.caught_up = True
        if self.on_caught_up is not None:
            await self.on_caught_up()

    @property
    def bot(self) -> RawUpdatesBot:
        bot = self.application.bot
        assert isinstance(bot, RawUpdatesBot), "build the application with RawUpdatesBot"
        return bot

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle batches until ``stop`` is set; the batch in hand always commits."""
        offset = await self.store.offset()
        backoff = Backoff()
        while not stop.is_set():
            try:
                raw = await _unless_stopped(self._fetch(offset), stop)
            except InvalidToken:
                raise
            except TelegramError as exc:  # network errors, 5xx, 429, 409 conflict
                delay = backoff.next(exc)
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
                await sleep_unless_stopped(delay, stop)
                continue
            if raw is None:
                break
            backoff.reset()
            if raw:
                offset = await self.process_batch(raw) or offset
            if len(raw) < self.limit:  # a short batch: nothing more was waiting
                await self.mark_caught_up()

    async def _fetch(self, offset: int | None) -> list[dict[str, Any]]:
        # No long poll before catching up: the hook must not wait for a new update.
        timeout = self.timeout if self.caught_up else 0
        return await self.bot.get_updates_raw(offset, timeout, self.limit)

    async def process_batch(self, raw_updates: Sequence[dict[str, Any]]) -> int | None:
        """Handle a batch and commit it with the next offset; return that offset."""
        ids = [raw_update_id(raw) for raw in raw_updates]
        known = [i for i in ids if i is not None]
        next_offset = max(known) + 1 if known else None
        async with self.store.batch():
            for raw, update_id in zip(raw_updates, ids, strict=True):
                await self._process_one(raw, update_id)
            if next_offset is not None:
                await self.store.set_offset(next_offset)
        self.stats.batches += 1
        self.stats.updates += len(raw_updates)
        return next_offset

    async def process_delivered(self, raw: dict[str, Any]) -> bool:
        """Handle one webhook update and commit it; False for one handled before.

        Deliveries that arrive while a commit is in flight are handled together and
        committed in one transaction (bot/group_commit.py), each in its own savepoint; this
        returns once the commit holding ``raw`` is done, and raises ``NotCommitted`` if that
        group failed because of another delivery's leader (the process stopping).
        """
        return await self._delivered.submit(raw)

    async def _commit_delivered(self, group: list[dict[str, Any]]) -> list[bool]:
        """Handle a group of webhook deliveries in one transaction; which were new.

        An update's "handled" mark is written right after it, so it commits with the
        update's last write: a send checkpoints what came before it, and a delivery cut
        short after a checkpoint (the process died) is not marked. Telegram delivers it
        again, and it is handled again like a re-fetched batch of long polling: the ledger
        skips what went out. One failing update goes to the dead letters, marked too.
        """
        ids = [raw_update_id(raw) for raw in group]
        new: list[bool] = []
        async with self.store.batch():
            seen = await self.store.webhook_updates_handled([i for i in ids if i is not None])
            for raw, update_id in zip(group, ids, strict=True):
                if update_id is not None and update_id in seen:
                    new.append(False)  # a re-delivery, maybe of one in this very group
                    continue
                await self._process_one(raw, update_id)
                if update_id is not None:
                    seen.add(update_id)
                    await self.store.mark_webhook_update(update_id)
                new.append(True)
        self.stats.batches += 1
        self.stats.updates += sum(new)
        return new

    async def replay(self, letter_id: int) -> str | None:
        """Run a dead letter's update through the handlers again, and commit.

        The same path as a fetched update: parse, handle, commit. On success the dead letter
        is deleted in the same transaction as the update's writes and None is returned; on
        failure it stays, with the new error, whose first line is returned. LookupError if
        there is no dead letter ``letter_id``.
        """
        async with self.store.batch():
            letter = await self.store.dead_letter(letter_id)
            if letter is None:
                raise LookupError(f"no dead letter #{letter_id}")
            failure = await self._handle_stored(letter.raw)
            if failure is None:
                await self.store.drop_dead_letter(letter_id)
            else:
                await self.store.set_dead_letter_error(letter_id, _error_text(*failure))
        self.stats.batches += 1
        self.stats.updates += 1
        return None if failure is None else failure[0]

    async def _handle_stored(self, text: str) -> tuple[str, BaseException] | None:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            return f"cannot parse: {_describe(exc)}", exc
        return await self._handle(raw)

    async def _process_one(self, raw: Any, update_id: int | None) -> None:
        failure = await self._handle(raw)
        if failure is not None:
            reason, exc = failure
            self.stats.dead_letters += 1
            log.error("update %s quarantined: %s", update_id, reason)
            await self.store.add_dead_letter(update_id, raw, _error_text(reason, exc))

    async def _handle(self, raw: Any) -> tuple[str, BaseException] | None:
        """Store a vote by the fast path, or else parse the update and run it through the
        handlers, in its own savepoint; the reason and the error if it could not be parsed
        or a handler failed."""
        if self.fast_path and await self._handle_vote(raw):
            return None
        return await self._handle_ptb(raw)

    async def _handle_vote(self, raw: Any) -> bool:
        """Store a ``poll`` or ``poll_answer`` update without PTB (bot/fastpath.py); False
        for any other update, one the fast path refuses, or one whose store failed (its
        writes undone): PTB's path then runs it, and quarantines it as it always did."""
        vote = fastpath.decode(raw)
        if vote is None:
            return False
        try:
            async with self.store.update_scope():
                await fastpath.store(self._callback_context(), vote)
        except Exception:  # PTB's path runs it again and reports it the usual way
            log.debug("fast path failed; the update goes through PTB", exc_info=True)
            return False
        self.stats.fast += 1
        return True

    def _callback_context(self) -> CallbackContext[Any, Any, Any, Any]:
        """What a poll's close hands to final posts (bot/polls/final.py): the application."""
        if self._context is None:
            self._context = self.application.context_types.context(self.application)
        return self._context

    async def _handle_ptb(self, raw: Any) -> tuple[str, BaseException] | None:
        try:
            update = Update.de_json(raw, self.application.bot)
        except Exception as exc:  # any parse failure is quarantined, whatever it is
            return f"cannot parse: {_describe(exc)}", exc
        errors: list[BaseException] = []
        token = _handler_errors.set(errors)
        try:
            async with self.store.update_scope():
                await self.application.process_update(update)
                if errors:
                    raise _HandlerFailed(errors[0])
        except _HandlerFailed as failed:
            return f"handler failed: {_describe(failed.error)}", failed.error
        except Exception as exc:  # PTB's dispatch itself, e.g. a user id it cannot hash
            return f"cannot dispatch: {_describe(exc)}", exc
        finally:
            _handler_errors.reset(token)
        return None


class _HandlerFailed(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Backoff:
    """Exponential backoff with jitter for getUpdates failures; honours retry_after."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first, self.cap, self.current = first, cap, first

    def next(self, exc: TelegramError) -> float:
        if isinstance(exc, RetryAfter):
            return float(
                exc.retry_after
                if isinstance(exc.retry_after, int)
                else exc.retry_after.total_seconds()
            )
        delay = self.current * (0.75 + random.random() / 2)
        self.current = min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.first


MAX_UPDATE_ID = 2**63 - 1  # SQLite's INTEGER; Telegram's ids are far below


def raw_update_id(raw: Any) -> int | None:
    """The update's id, if it has one a database can hold (a positive 64-bit integer)."""
    value = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 0 <= value <= MAX_UPDATE_ID else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _error_text(reason: str, exc: BaseException) -> str:
    """A dead letter's error: the one-line reason, then the traceback."""
    return reason + "\n" + "".join(traceback.format_exception(exc))


async def _unless_stopped(coroutine: Any, stop: asyncio.Event) -> list[dict[str, Any]] | None:
    """Await a fetch, or cancel it and return None when ``stop`` is set first."""
    fetch = asyncio.ensure_future(coroutine)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if fetch.done():
        return fetch.result()  # type: ignore[no-any-return]
    fetch.cancel()
    # Nothing fetched is lost: unconfirmed updates are delivered again next time.
    await asyncio.gather(fetch, return_exceptions=True)
    return None


async def sleep_unless_stopped(delay: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=delay)
