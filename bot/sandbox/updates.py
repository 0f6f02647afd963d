"""The update queue: increasing update_id, confirmation by offset, long polling, poll coalescing.

A `poll` update is a full snapshot, so while one for the same poll waits undelivered in
the queue, a newer state does not append another: the waiting entry is serialized with
the latest state when it is first delivered. Entries already delivered are never changed.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.errors import ApiError
from bot.sandbox.models import JSON

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "guest_message",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "managed_bot",
)
DEFAULT_ALLOWED = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass(slots=True)
class Entry:
    """One queued update; `payload` is None for a poll snapshot not yet delivered."""

    update_id: int
    kind: str
    payload: JSON | None
    poll_id: str | None = None
    update: JSON | None = None
    encoded: bytes | None = None


class UpdateQueue:
    """Pending updates in update_id order; `snapshot(poll_id)` builds a poll's current JSON."""

    def __init__(self, snapshot: Callable[[str], JSON]) -> None:
        self._snapshot = snapshot
        self._entries: deque[Entry] = deque()
        self._undelivered_polls: dict[str, Entry] = {}
        self._event = asyncio.Event()
        self._poller = 0
        self._waiting = 0
        self.next_id = 1
        self.allowed: list[str] | None = None
        self._allowed_set = DEFAULT_ALLOWED

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Remember allowed_updates (sticky); an empty list means the default set."""
        if allowed is None:
            return
        self.allowed = list(allowed) or None
        self._allowed_set = frozenset(allowed) if allowed else DEFAULT_ALLOWED

    def push(self, kind: str, payload: JSON) -> Entry | None:
        """Append an update unless allowed_updates filters it out (as Telegram does)."""
        if kind not in self._allowed_set:
            return None
        entry = Entry(self.next_id, kind, payload)
        self.next_id += 1
        self._entries.append(entry)
        self._notify()
        return entry

    def push_poll(self, poll_id: str) -> Entry | None:
        """Queue the poll's state, merging into an undelivered snapshot of the same poll."""
        waiting = self._undelivered_polls.get(poll_id)
        if waiting is not None:
            return waiting
        if "poll" not in self._allowed_set:
            return None
        entry = Entry(self.next_id, "poll", None, poll_id)
        self.next_id += 1
        self._entries.append(entry)
        self._undelivered_polls[poll_id] = entry
        self._notify()
        return entry

    def push_raw(self, update: JSON) -> Entry:
        """Queue arbitrary JSON as an update, bypassing allowed_updates."""
        update_id = update.get("update_id")
        if update_id is None:
            update = {"update_id": self.next_id, **update}
        elif not isinstance(update_id, int) or update_id < self.next_id:
            raise ValueError(f"update_id must be an integer >= {self.next_id}")
        self.next_id = update["update_id"] + 1
        kinds = [key for key in update if key != "update_id"]
        entry = Entry(update["update_id"], kinds[0] if kinds else "", None, None, update)
        self._entries.append(entry)
        self._notify()
        return entry

    def confirm(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset."""
        entries = self._entries
        if offset < 0:
            while len(entries) > -offset:
                self._drop(entries.popleft())
            return
        while entries and entries[0].update_id < offset:
            self._drop(entries.popleft())

    def clear(self) -> None:
        while self._entries:
            self._drop(self._entries.popleft())

    def _drop(self, entry: Entry) -> None:
        if entry.poll_id is not None and self._undelivered_polls.get(entry.poll_id) is entry:
            del self._undelivered_polls[entry.poll_id]

    def first(self, limit: int) -> list[Entry]:
        """The oldest `limit` entries, serialized (and frozen) for delivery."""
        batch: list[Entry] = []
        for entry in self._entries:
            if len(batch) >= limit:
                break
            self.materialize(entry)
            batch.append(entry)
        return batch

    def materialize(self, entry: Entry) -> None:
        if entry.encoded is not None:
            return
        if entry.update is None:
            payload = entry.payload
            if payload is None and entry.poll_id is not None:
                payload = self._snapshot(entry.poll_id)
                self._drop(entry)
            entry.update = {"update_id": entry.update_id, entry.kind: payload}
        entry.encoded = json.dumps(
            entry.update, ensure_ascii=False, separators=(",", ":")
        ).encode()

    async def get_updates(self, offset: int | None, limit: int, wait: float) -> list[Entry]:
        """getUpdates: confirm, then wait up to `wait` s for something; newest caller wins."""
        if offset is not None:
            self.confirm(offset)
        self._poller += 1
        me = self._poller
        self._notify()  # wakes an older long poll, which then answers 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        while True:
            batch = self.first(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await self.wait_change(remaining)
            if self._poller != me:
                raise ApiError(409, CONFLICT_OTHER_POLL)

    async def wait_change(self, seconds: float) -> None:
        """Sleep until an update is queued (or a poller arrives), at most `seconds`."""
        event = self._event
        self._waiting += 1
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1
            if not self._waiting and not event.is_set():
                self._event = asyncio.Event()  # unbound, so another event loop may wait next

    def _notify(self) -> None:
        if self._waiting:
            event = self._event
            self._event = asyncio.Event()
            event.set()

    def notify(self) -> None:
        """Wake every waiter (after a webhook change, for instance)."""
        self._notify()
