"""``Store``: the one class through which the project reads and writes SQLite.

Feature SQL lives in mixins beside this file (polls, answers, snapshots, articles, chats,
digests, drafts, followups, outbox, compose); this module adds the bot's own
bookkeeping: the update offset, dead letters, the ledger of messages sent for an update, and
the admin audit log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.answers import AnswersMixin
from storage.articles import ArticlesMixin
from storage.base import GET_STATE, StoreBase
from storage.chats import ChatsMixin
from storage.compose import ComposeMixin
from storage.deferred import MARK_WEBHOOK_UPDATE, SET_STATE
from storage.digests import DigestsMixin
from storage.drafts import DraftsMixin
from storage.followups import FollowupsMixin
from storage.outbox import OutboxMixin
from storage.polls import PollsMixin
from storage.snapshots import SnapshotsMixin

ERROR_CHARS = 4000
_LETTER_COLUMNS = "id, update_id, raw, error, created_at"  # DeadLetter's fields, in order


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _escaped(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (lone surrogates) written as escapes."""
    return text if _utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    update_id: int | None
    raw: str
    error: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: int
    user_id: int | None
    action: str
    target: str | None
    result: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows ``Store.prune`` deleted, table by table."""

    sent: int
    dead_letters: int
    audit_log: int


@dataclass(frozen=True, slots=True)
class SentMessage:
    key: str
    chat_id: int
    message_id: int | None


class Store(
    AnswersMixin,
    ArticlesMixin,
    ChatsMixin,
    ComposeMixin,
    DigestsMixin,
    DraftsMixin,
    FollowupsMixin,
    OutboxMixin,
    PollsMixin,
    SnapshotsMixin,
    StoreBase,
):
    """Every SQL statement of pollbot is a method of this class or of its mixins."""

    # -- state --------------------------------------------------------------------------

    async def get_state(self, key: str) -> str | None:
        value = await self._scalar(GET_STATE, (key,))
        return None if value is None else str(value)

    async def set_state(self, key: str, value: str) -> None:
        await self._write_one(SET_STATE, (key, value))

    async def offset(self) -> int | None:
        """The getUpdates offset to ask with next (None: never fetched)."""
        value = await self.get_state("update_offset")
        return None if value is None else int(value)

    async def set_offset(self, offset: int) -> None:
        await self.set_state("update_offset", str(offset))

    # -- webhook deliveries -------------------------------------------------------------

    async def webhook_updates_handled(self, update_ids: Sequence[int]) -> set[int]:
        """Which of these webhook updates were handled to the end before (re-deliveries)."""
        if not update_ids:
            return set()
        marks = ", ".join("?" * len(update_ids))
        rows = await self._all(
            f"SELECT update_id FROM webhook_updates WHERE update_id IN ({marks})", update_ids
        )
        return {int(row[0]) for row in rows}

    async def mark_webhook_update(self, update_id: int) -> None:
        """Mark a webhook update as handled to the end (queued with its last write)."""
        await self._write_one(MARK_WEBHOOK_UPDATE, (update_id, self.now()))

    async def prune_webhook_updates(self, older_than: int) -> None:
        async with self.write() as conn:
            await conn.execute("DELETE FROM webhook_updates WHERE handled_at < ?", (older_than,))

    # -- dead letters -------------------------------------------------------------------
    # A letter's error is kept to its first ERROR_CHARS characters (a traceback's head).

    async def add_dead_letter(self, update_id: int | None, raw: Any, error: str) -> None:
        """Keep an update that could not be handled; text SQLite cannot hold as UTF-8 (a lone
        surrogate) is kept escaped, so that the dead letter itself never fails."""
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        if not _utf8(text):
            text = json.dumps(raw) if not isinstance(raw, str) else _escaped(text)
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO dead_letters (update_id, raw, error, created_at) VALUES (?, ?, ?, ?)",
                (update_id, text, _escaped(error[:ERROR_CHARS]), self.now()),
            )

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters first."""
        rows = await self._all(
            f"SELECT {_LETTER_COLUMNS} FROM dead_letters ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [DeadLetter(*row) for row in rows]

    async def dead_letter(self, letter_id: int) -> DeadLetter | None:
        row = await self._one(
            f"SELECT {_LETTER_COLUMNS} FROM dead_letters WHERE id = ?",
            (letter_id,),
        )
        return None if row is None else DeadLetter(*row)

    async def set_dead_letter_error(self, letter_id: int, error: str) -> None:
        """Keep a dead letter with the error of its latest attempt."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE dead_letters SET error = ? WHERE id = ?", (error[:ERROR_CHARS], letter_id)
            )

    async def drop_dead_letter(self, letter_id: int) -> bool:
        """Delete a dead letter; False if there was none with that id."""
        async with self.write() as conn:
            cursor = await conn.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,))
            return cursor.rowcount == 1

    # -- messages sent on behalf of an update -------------------------------------------

    async def sent(self, key: str) -> SentMessage | None:
        row = await self._one("SELECT key, chat_id, message_id FROM sent WHERE key = ?", (key,))
        return None if row is None else SentMessage(*row)

    async def record_sent(self, key: str, chat_id: int, message_id: int | None) -> None:
        """Remember a message sent for ``key``, and make it durable at once."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO sent (key, chat_id, message_id, sent_at)"
                " VALUES (?, ?, ?, ?)",
                (key, chat_id, message_id, self.now()),
            )
        await self.checkpoint()

    # -- audit log ----------------------------------------------------------------------

    async def audit(
        self,
        user_id: int | None,
        action: str,
        *,
        target: str | None = None,
        result: str = "ok",
        detail: str | None = None,
    ) -> None:
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO audit_log (at, user_id, action, target, result, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (self.now(), user_id, action, target, result, detail),
            )

    async def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        rows = await self._all(
            "SELECT id, at, user_id, action, target, result, detail FROM audit_log"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*row) for row in rows]

    # -- pruning ------------------------------------------------------------------------

    async def prune(self, keep_seconds: int) -> Pruned:
        """Delete ledger entries, dead letters and audit entries older than ``keep_seconds``.

        The caller keeps the ledger (``sent``) at least as long as Telegram may deliver an
        update again, or a replay would send its messages twice.
        """
        cutoff = self.now() - keep_seconds
        async with self.write() as conn:
            sent = await conn.execute("DELETE FROM sent WHERE sent_at < ?", (cutoff,))
            await conn.execute("DELETE FROM outbox WHERE created_at < ?", (cutoff,))
            dead = await conn.execute("DELETE FROM dead_letters WHERE created_at < ?", (cutoff,))
            audit = await conn.execute("DELETE FROM audit_log WHERE at < ?", (cutoff,))
        return Pruned(sent.rowcount, dead.rowcount, audit.rowcount)
