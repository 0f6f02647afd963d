"""SQL of digest schedules and of every digest sent (the baseline of the next one's deltas).

A digest is *claimed* (a row keyed by schedule and due time) and committed before it is sent,
so a crash after sending can lose a digest but never send it twice. Times are Unix seconds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cron expression in a timezone, sending digests to one chat."""

    id: int
    cron: str
    timezone: str
    target_chat: int
    target_name: str | None
    language: str | None
    is_default: bool
    created_by: int | None
    created_at: int  # when it took effect: earlier due times are never caught up


@dataclass(frozen=True, slots=True)
class DigestRecord:
    id: int
    schedule_id: int | None
    target_chat: int
    due_at: int
    claimed_at: int
    sent_at: int | None
    message_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DigestItem:
    """What a digest showed for one campaign: counts by option key, and the sole leader."""

    campaign_id: int
    total: int
    counts: tuple[tuple[str, int], ...]
    leader: str | None

    def count_of(self, key: str) -> int | None:
        return next((count for k, count in self.counts if k == key), None)


_SCHEDULE_COLUMNS = (
    "id, cron, timezone, target_chat, target_name, language, is_default, created_by, created_at"
)
_DIGEST_COLUMNS = "id, schedule_id, target_chat, due_at, claimed_at, sent_at, message_ids"


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(
        id=row["id"],
        cron=row["cron"],
        timezone=row["timezone"],
        target_chat=row["target_chat"],
        target_name=row["target_name"],
        language=row["language"],
        is_default=bool(row["is_default"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _digest(row: sqlite3.Row) -> DigestRecord:
    ids = json.loads(row["message_ids"]) if row["message_ids"] else []
    return DigestRecord(
        row["id"],
        row["schedule_id"],
        row["target_chat"],
        row["due_at"],
        row["claimed_at"],
        row["sent_at"],
        tuple(ids),
    )


class DigestsMixin(StoreBase):
    """Schedules, digests and what each digest showed."""

    # -- schedules ----------------------------------------------------------------------

    async def add_schedule(
        self,
        cron: str,
        timezone: str,
        target_chat: int,
        *,
        at: int,
        target_name: str | None = None,
        language: str | None = None,
        created_by: int | None = None,
        is_default: bool = False,
        origin: str | None = None,
    ) -> tuple[Schedule, bool]:
        """Add a schedule; with an ``origin`` already used, return that one. True if new."""
        async with self.write() as conn:
            if origin is not None:
                row = await self._one(
                    f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE origin = ?", (origin,)
                )
                if row is not None:
                    return _schedule(row), False
            cursor = await conn.execute(
                "INSERT INTO schedules (cron, timezone, target_chat, target_name, language,"
                " is_default, created_by, created_at, origin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cron,
                    timezone,
                    target_chat,
                    target_name,
                    language,
                    is_default,
                    created_by,
                    at,
                    origin,
                ),
            )
            schedule_id = int(cursor.lastrowid or 0)
        found = await self.schedule(schedule_id)
        assert found is not None
        return found, True

    async def update_schedule(
        self, schedule_id: int, cron: str, timezone: str, *, at: int,
        target_name: str | None = None, language: str | None = None,
    ) -> None:  # fmt: skip
        """Change when a schedule fires; it counts as new from ``at`` (no catch-up before)."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE schedules SET cron = ?, timezone = ?, target_name = ?, language = ?,"
                " created_at = ? WHERE id = ?",
                (cron, timezone, target_name, language, at, schedule_id),
            )

    async def schedule(self, schedule_id: int) -> Schedule | None:
        row = await self._one(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
        )
        return None if row is None else _schedule(row)

    async def schedules(self) -> list[Schedule]:
        rows = await self._all(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules ORDER BY id")
        return [_schedule(row) for row in rows]

    async def remove_schedule(self, schedule_id: int) -> bool:
        """Delete a schedule (its digests stay, unlinked); False if there was none."""
        async with self.write() as conn:
            cursor = await conn.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
            return cursor.rowcount == 1

    # -- digests ------------------------------------------------------------------------

    async def claim_digest(
        self,
        schedule_id: int | None,
        target_chat: int,
        due_at: int,
        *,
        at: int,
        origin: str | None = None,
    ) -> int | None:
        """Claim the digest of ``schedule_id`` due at ``due_at``: its id, or None if it was
        claimed and sent before.

        A digest claimed before but never marked sent (the process died, or its sends
        failed) gets its id back, to be finished: the ledger of sent messages keeps it from
        sending a part twice (at least once, never lost). A digest asked for by an update
        (``origin``) is claimed once per update, a replay getting the same id back."""
        async with self.write() as conn:
            if origin is not None:
                async with conn.execute(
                    "SELECT id FROM digests WHERE origin = ?", (origin,)
                ) as cursor:
                    row = await cursor.fetchone()
                if row is not None:
                    return int(row[0])
            cursor = await conn.execute(
                "INSERT INTO digests (schedule_id, target_chat, due_at, claimed_at, origin)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (schedule_id, due_at) DO NOTHING",
                (schedule_id, target_chat, due_at, at, origin),
            )
            if cursor.rowcount == 1:
                return int(cursor.lastrowid or 0)
            async with conn.execute(
                "SELECT id FROM digests WHERE schedule_id = ? AND due_at = ? AND sent_at IS NULL",
                (schedule_id, due_at),
            ) as found:
                row = await found.fetchone()
            return None if row is None else int(row[0])

    async def unsent_digests(self, schedule_id: int, *, claimed_since: int) -> list[int]:
        """The due times of the digests of a schedule that an earlier process claimed since
        ``claimed_since`` and never marked sent (it died, or its sends failed), oldest
        first: to be finished, or dropped for a newer one, at start."""
        rows = await self._all(
            "SELECT due_at FROM digests WHERE schedule_id = ? AND sent_at IS NULL"
            " AND claimed_at >= ? AND claimed_at < ? ORDER BY due_at",
            (schedule_id, claimed_since, self.opened_at),
        )
        return [int(row[0]) for row in rows]

    async def drop_unsent_digests(self, schedule_id: int, *, due_before: int) -> None:
        """Forget the unsent claims of a schedule due before ``due_before``: a newer digest
        of the same schedule replaces them."""
        async with self.write() as conn:
            await conn.execute(
                "DELETE FROM digests WHERE schedule_id = ? AND sent_at IS NULL AND due_at < ?",
                (schedule_id, due_before),
            )

    async def record_digest_items(self, digest_id: int, items: Sequence[DigestItem]) -> None:
        async with self.write() as conn:
            await conn.executemany(
                "INSERT OR REPLACE INTO digest_items (digest_id, campaign_id, total, counts,"
                " leader) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        digest_id,
                        item.campaign_id,
                        item.total,
                        json.dumps([list(pair) for pair in item.counts], ensure_ascii=False),
                        item.leader,
                    )
                    for item in items
                ],
            )

    async def mark_digest_sent(
        self, digest_id: int, *, at: int, message_ids: Sequence[int]
    ) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE digests SET sent_at = ?, message_ids = ? WHERE id = ?",
                (at, json.dumps(list(message_ids)), digest_id),
            )

    async def digests(self, target_chat: int | None = None) -> list[DigestRecord]:
        """Every digest claimed (for one chat, if given), oldest first."""
        rows = await self._all(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE ? IS NULL OR target_chat = ?"
            " ORDER BY id",
            (target_chat, target_chat),
        )
        return [_digest(row) for row in rows]

    async def last_sent_digest(self, target_chat: int) -> DigestRecord | None:
        """The latest digest actually sent to a chat: what the next one compares with."""
        row = await self._one(
            f"SELECT {_DIGEST_COLUMNS} FROM digests"
            " WHERE target_chat = ? AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            (target_chat,),
        )
        return None if row is None else _digest(row)

    async def digest_items(self, digest_id: int) -> dict[int, DigestItem]:
        """What a digest showed, by campaign id."""
        rows = await self._all(
            "SELECT campaign_id, total, counts, leader FROM digest_items WHERE digest_id = ?",
            (digest_id,),
        )
        return {
            row[0]: DigestItem(
                row[0], row[1], tuple((str(k), int(c)) for k, c in json.loads(row[2])), row[3]
            )
            for row in rows
        }
