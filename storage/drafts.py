"""SQL of drafts (what /post, /poll and /newpoll will publish once the admin presses
Publish) and of undoing a campaign (/delete): its posts, and its deleted mark."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase

# A draft's states: pending (previewed), publishing (Publish pressed, not finished yet),
# and the four ends (scheduled: queued as a post at a set time, storage/compose.py).
PENDING, PUBLISHING, PUBLISHED = "pending", "publishing", "published"
CANCELLED, EXPIRED, SCHEDULED = "cancelled", "expired", "scheduled"


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    kind: str  # "post", "poll" or "newpoll"
    article_id: str | None
    spec: dict[str, object] | None  # the poll's settings (spec_record), for poll kinds
    targets: tuple[int, ...]  # chat ids
    created_by: int
    created_at: int
    state: str
    decided_by: int | None
    decided_at: int | None

    @property
    def is_open(self) -> bool:
        """Not decided yet, or Publish pressed but not finished (a crash in the middle)."""
        return self.state in (PENDING, PUBLISHING)


@dataclass(frozen=True, slots=True)
class CampaignPost:
    """An article post of a campaign in one chat: the message ids of its parts."""

    chat_id: int
    message_ids: tuple[int, ...]


_COLUMNS = (
    "id, kind, article_id, spec, targets, created_by, created_at, state, decided_by, decided_at"
)


def _draft(row: sqlite3.Row) -> Draft:
    spec = row["spec"]
    return Draft(
        id=row["id"],
        kind=row["kind"],
        article_id=row["article_id"],
        spec=None if spec is None else json.loads(spec),
        targets=tuple(json.loads(row["targets"])),
        created_by=row["created_by"],
        created_at=row["created_at"],
        state=row["state"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


class DraftsMixin(StoreBase):
    """Drafts waiting for Publish, what went where before, and deleted campaigns."""

    # -- drafts -------------------------------------------------------------------------

    async def create_draft(
        self,
        kind: str,
        targets: Sequence[int],
        *,
        created_by: int,
        origin: str,
        article_id: str | None = None,
        spec: dict[str, object] | None = None,
    ) -> Draft:
        """Store a draft; with an ``origin`` already used (a replay), return that one."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO drafts (kind, article_id, spec, targets, created_by, created_at,"
                " origin) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                (
                    kind,
                    article_id,
                    None if spec is None else json.dumps(spec, ensure_ascii=False),
                    json.dumps(list(targets)),
                    created_by,
                    self.now(),
                    origin,
                ),
            )
        row = await self._one(f"SELECT {_COLUMNS} FROM drafts WHERE origin = ?", (origin,))
        assert row is not None
        return _draft(row)

    async def draft(self, draft_id: int) -> Draft | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM drafts WHERE id = ?", (draft_id,))
        return None if row is None else _draft(row)

    async def claim_draft(self, draft_id: int, decided_by: int, job: dict[str, object]) -> None:
        """Mark a draft as being published, with what its publishing needs (``job``)."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE drafts SET state = ?, job = ?, decided_by = COALESCE(decided_by, ?),"
                " decided_at = COALESCE(decided_at, ?) WHERE id = ?",
                (
                    PUBLISHING,
                    json.dumps(job, ensure_ascii=False),
                    decided_by,
                    self.now(),
                    draft_id,
                ),
            )

    async def draft_job(self, draft_id: int) -> dict[str, object] | None:
        """What the publishing of a draft needs (``claim_draft``), if it was claimed."""
        found = await self._scalar("SELECT job FROM drafts WHERE id = ?", (draft_id,))
        return None if found is None else dict(json.loads(found))

    async def publishing_drafts(self) -> list[int]:
        """The drafts being published: a crash may have left them half done."""
        rows = await self._all("SELECT id FROM drafts WHERE state = ? ORDER BY id", (PUBLISHING,))
        return [int(row[0]) for row in rows]

    async def set_draft_state(self, draft_id: int, state: str, decided_by: int | None) -> None:
        """Move a draft on; who decided (and when) is kept from the first press."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE drafts SET state = ?, decided_by = COALESCE(decided_by, ?),"
                " decided_at = COALESCE(decided_at, ?) WHERE id = ?",
                (state, decided_by, self.now(), draft_id),
            )

    # -- what went where before (the preview's warnings) --------------------------------

    async def article_posted_to(self, article_id: str) -> dict[int, int]:
        """Chat id -> when this article was last posted there (deleted posts left out)."""
        rows = await self._all(
            "SELECT p.chat_id, MAX(p.posted_at) FROM posts p"
            " LEFT JOIN campaigns c ON c.id = p.campaign_id"
            " WHERE p.article_id = ? AND c.deleted_at IS NULL GROUP BY p.chat_id",
            (article_id,),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def question_sent_to(self, question: str) -> dict[int, int]:
        """Chat id -> when a poll with this question last went there (deleted ones left out)."""
        rows = await self._all(
            "SELECT p.chat_id, MAX(p.created_at) FROM polls p"
            " JOIN campaigns c ON c.id = p.campaign_id"
            " WHERE c.question = ? AND c.deleted_at IS NULL AND p.chat_id IS NOT NULL"
            " GROUP BY p.chat_id",
            (question,),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    # -- undo (/delete) -----------------------------------------------------------------

    async def posts_of_campaign(self, campaign_id: int) -> list[CampaignPost]:
        """The article posts that came with a campaign's polls, chat by chat."""
        rows = await self._all(
            "SELECT chat_id, message_ids FROM posts WHERE campaign_id = ? ORDER BY id",
            (campaign_id,),
        )
        return [CampaignPost(int(row[0]), tuple(json.loads(row[1]))) for row in rows]

    async def mark_campaign_deleted(self, campaign_id: int) -> None:
        """Mark a campaign deleted (the first time counts), and closed: its polls are gone
        from the chats, so nothing more can come. Its polls and votes stay."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE campaigns SET deleted_at = COALESCE(deleted_at, ?),"
                " closed_at = COALESCE(closed_at, ?) WHERE id = ?",
                (self.now(), self.now(), campaign_id),
            )
