"""SQL of a poll's follow-ups: its final result post, the creator's note, its reminder.

Each is *claimed* (a row keyed by campaign, chat and kind) before it is sent, so it goes to
a chat once however often the close is seen; a claim not marked sent (a crash between the
claim and the send) is picked up again, and the ledger key derived from the claim's id
keeps what did go out from going out twice. Also here: what the reminders need to know
of open polls, and a poll's counts a week ago (the digests' week over week).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase

FINAL, NOTE, REMIND = "final", "note", "remind"


@dataclass(frozen=True, slots=True)
class Followup:
    id: int
    campaign_id: int
    chat_id: int
    kind: str  # FINAL, NOTE or REMIND
    reply_to: int | None  # the poll's message in that chat
    claimed_at: int
    sent_at: int | None


@dataclass(frozen=True, slots=True)
class ClosingPoll:
    """An open poll with a close date, in a campaign that is neither closed nor deleted."""

    poll_id: str
    campaign_id: int
    chat_id: int
    message_id: int
    close_date: int
    spec: dict[str, object]  # its campaign's settings


_COLUMNS = "id, campaign_id, chat_id, kind, reply_to, claimed_at, sent_at"


def _followup(row: sqlite3.Row) -> Followup:
    return Followup(
        row["id"],
        row["campaign_id"],
        row["chat_id"],
        row["kind"],
        row["reply_to"],
        row["claimed_at"],
        row["sent_at"],
    )


class FollowupsMixin(StoreBase):
    """Claims of final posts, notes and reminders; open polls by close date."""

    async def claim_followups(
        self, campaign_id: int, kind: str, chats: Sequence[tuple[int, int | None]]
    ) -> None:
        """Claim ``kind`` for each (chat id, message to reply to); a claim made before stays
        as it is (sent or not)."""
        async with self.write() as conn:
            await conn.executemany(
                "INSERT INTO followups (campaign_id, chat_id, kind, reply_to, claimed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id, chat_id, kind) DO NOTHING",
                [
                    (campaign_id, chat_id, kind, reply_to, self.now())
                    for chat_id, reply_to in chats
                ],
            )

    async def pending_followups(self, kinds: Sequence[str]) -> list[Followup]:
        """Claims of these kinds not sent yet, oldest first."""
        marks = ", ".join("?" for _ in kinds)
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM followups WHERE sent_at IS NULL AND kind IN ({marks})"
            " ORDER BY id",
            tuple(kinds),
        )
        return [_followup(row) for row in rows]

    async def followups(self, campaign_id: int) -> list[Followup]:
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM followups WHERE campaign_id = ? ORDER BY id",
            (campaign_id,),
        )
        return [_followup(row) for row in rows]

    async def mark_followup_sent(self, followup_id: int) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE followups SET sent_at = COALESCE(sent_at, ?) WHERE id = ?",
                (self.now(), followup_id),
            )

    async def closing_polls(self) -> list[ClosingPoll]:
        """Open polls with a close date, of campaigns neither closed nor deleted."""
        rows = await self._all(
            "SELECT p.poll_id, p.campaign_id, p.chat_id, p.message_id, p.close_date, c.spec"
            " FROM polls p JOIN campaigns c ON c.id = p.campaign_id"
            " WHERE p.is_closed = 0 AND p.close_date IS NOT NULL AND p.chat_id IS NOT NULL"
            " AND p.message_id IS NOT NULL AND c.closed_at IS NULL AND c.deleted_at IS NULL"
            " ORDER BY p.close_date",
        )
        return [
            ClosingPoll(
                row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]), json.loads(row[5])
            )
            for row in rows
        ]

    async def total_at(self, poll_id: str, minute: int) -> int | None:
        """A poll's voters at ``minute`` (its latest snapshot then), None before its first."""
        value = await self._scalar(
            "SELECT total FROM snapshots WHERE poll_id = ? AND minute <= ?"
            " ORDER BY minute DESC LIMIT 1",
            (poll_id, minute),
        )
        return None if value is None else int(value)

    async def summary_readers_since(self, article_id: str, since: int) -> int:
        """Readers who first asked for an article's summary at or after ``since``."""
        value = await self._scalar(
            "SELECT COUNT(*) FROM summary_requests WHERE article_id = ? AND first_at >= ?",
            (article_id, since),
        )
        return int(value or 0)
