"""SQL of a poll's follow-ups: its final result post, the creator's note, its reminder.

Each is *claimed* (a row keyed by campaign, chat and kind) before it is sent, so it goes to
a chat once however often the close is seen; a claim not marked sent (a crash between the
claim and the send) is picked up again, and the ledger key derived from the claim's id
keeps what did go out from going out twice; the messages sent are kept, for /delete. Also
here: what the reminders need to know of open polls.
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


@dataclass(frozen=True, slots=True)
class ClosingPoll:
    """An open poll with a close date, in a campaign that is neither closed nor deleted."""

    poll_id: str
    campaign_id: int
    chat_id: int
    message_id: int
    close_date: int
    posted_at: int
    spec: dict[str, object]  # its campaign's settings


_COLUMNS = "id, campaign_id, chat_id, kind, reply_to"


def _followup(row: sqlite3.Row) -> Followup:
    return Followup(
        row["id"],
        row["campaign_id"],
        row["chat_id"],
        row["kind"],
        row["reply_to"],
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

    async def mark_followup_sent(self, followup_id: int, message_ids: Sequence[int] = ()) -> None:
        """The claim is done: sent (as these messages), or given up."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE followups SET sent_at = COALESCE(sent_at, ?), message_ids = ?"
                " WHERE id = ?",
                (self.now(), json.dumps(list(message_ids)), followup_id),
            )

    async def followup_messages(self, campaign_id: int) -> list[tuple[int, int]]:
        """(chat id, message id) of every follow-up a campaign's chats were sent."""
        rows = await self._all(
            "SELECT chat_id, message_ids FROM followups WHERE campaign_id = ?"
            " AND kind != ? AND message_ids IS NOT NULL ORDER BY id",
            (campaign_id, NOTE),
        )
        return [(int(row[0]), int(m)) for row in rows for m in json.loads(row[1])]

    async def unclaimed_closed_campaigns(self) -> list[int]:
        """Closed, not deleted campaigns with polls in chats whose final posts were never
        claimed (a kill between the close and the claim), unless turned off (``final_post``
        false in their settings)."""
        rows = await self._all(
            "SELECT c.id FROM campaigns c WHERE c.closed_at IS NOT NULL"
            " AND c.deleted_at IS NULL"
            " AND COALESCE(json_extract(c.spec, '$.final_post'), 1) != 0"
            " AND EXISTS (SELECT 1 FROM polls p WHERE p.campaign_id = c.id"
            "   AND p.chat_id IS NOT NULL)"
            " AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.campaign_id = c.id"
            "   AND f.kind = ?) ORDER BY c.id",
            (FINAL,),
        )
        return [int(row[0]) for row in rows]

    async def closing_polls(self) -> list[ClosingPoll]:
        """Open polls with a close date, of campaigns neither closed nor deleted."""
        rows = await self._all(
            "SELECT p.poll_id, p.campaign_id, p.chat_id, p.message_id, p.close_date,"
            " p.created_at, c.spec"
            " FROM polls p JOIN campaigns c ON c.id = p.campaign_id"
            " WHERE p.is_closed = 0 AND p.close_date IS NOT NULL AND p.chat_id IS NOT NULL"
            " AND p.message_id IS NOT NULL AND c.closed_at IS NULL AND c.deleted_at IS NULL"
            " ORDER BY p.close_date",
        )
        return [
            ClosingPoll(
                row[0],
                int(row[1]),
                int(row[2]),
                int(row[3]),
                int(row[4]),
                int(row[5]),
                json.loads(row[6]),
            )
            for row in rows
        ]
