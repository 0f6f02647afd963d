"""SQL of campaigns, polls and their option counts (answers and snapshots: beside it).

Counts are stored as Telegram reports them (``poll`` updates carry a poll's full state),
so reading a result never scans the answers table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase
from storage.deferred import APPLY_POLL, APPLY_POLL_OPTIONS, APPLY_POLL_SNAPSHOT


@dataclass(frozen=True, slots=True)
class OptionState:
    persistent_id: str
    text: str
    voter_count: int


@dataclass(frozen=True, slots=True)
class PollState:
    """A poll as a ``poll`` update or stopPoll reports it: the whole current state."""

    poll_id: str
    question: str
    options: tuple[OptionState, ...]
    total_voters: int
    is_closed: bool
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple: bool = False
    close_date: int | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    question: str
    options: tuple[str, ...]
    spec: dict[str, object]
    article_id: str | None
    created_by: int | None
    created_at: int
    closed_at: int | None
    deleted_at: int | None = None  # /delete removed its messages (its results are kept)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class PollRecord:
    poll_id: str
    campaign_id: int | None
    chat_id: int | None
    message_id: int | None
    question: str
    type: str
    is_anonymous: bool
    allows_multiple: bool
    is_closed: bool
    close_date: int | None
    total_voters: int


@dataclass(frozen=True, slots=True)
class OptionCount:
    persistent_id: str
    position: int
    text: str
    voter_count: int


@dataclass(frozen=True, slots=True)
class PollCounts:
    poll: PollRecord
    options: tuple[OptionCount, ...]


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign for a list: its total voters (summed over its polls) and its chats."""

    campaign: Campaign
    voters: int
    chat_ids: tuple[int, ...]


_POLL_COLUMNS = (
    "poll_id, campaign_id, chat_id, message_id, question, type, is_anonymous, "
    "allows_multiple, is_closed, close_date, total_voters"
)
_CAMPAIGN_COLUMNS = (
    "id, question, options, spec, article_id, created_by, created_at, closed_at, deleted_at"
)


def _campaign(row: sqlite3.Row) -> Campaign:
    return Campaign(
        id=row["id"],
        question=row["question"],
        options=tuple(json.loads(row["options"])),
        spec=json.loads(row["spec"]),
        article_id=row["article_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
        deleted_at=row["deleted_at"],
    )


def _poll(row: sqlite3.Row) -> PollRecord:
    return PollRecord(
        poll_id=row["poll_id"],
        campaign_id=row["campaign_id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        question=row["question"],
        type=row["type"],
        is_anonymous=bool(row["is_anonymous"]),
        allows_multiple=bool(row["allows_multiple"]),
        is_closed=bool(row["is_closed"]),
        close_date=row["close_date"],
        total_voters=row["total_voters"],
    )


def _option_rows(state: PollState) -> list[tuple[str, str, int, str, int]]:
    """(poll_id, persistent_id, position, text, voter_count) of each option of a state."""
    return [
        (state.poll_id, option.persistent_id, position, option.text, option.voter_count)
        for position, option in enumerate(state.options)
    ]


class PollsMixin(StoreBase):
    """Campaigns, polls and their counts (answers and snapshots have mixins of their own)."""

    # -- campaigns ----------------------------------------------------------------------

    async def create_campaign(
        self,
        question: str,
        options: Sequence[str],
        spec: dict[str, object],
        *,
        article_id: str | None = None,
        created_by: int | None = None,
        origin: str | None = None,
    ) -> Campaign:
        """Create a campaign; with an ``origin`` already used, return that one instead."""
        async with self.write() as conn:
            existing = await self.campaign_by_origin(origin) if origin is not None else None
            if existing is not None:
                return existing
            cursor = await conn.execute(
                "INSERT INTO campaigns (question, options, spec, article_id, created_by,"
                " created_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    question,
                    json.dumps(list(options), ensure_ascii=False),
                    json.dumps(spec, ensure_ascii=False, sort_keys=True),
                    article_id,
                    created_by,
                    self.now(),
                    origin,
                ),
            )
            campaign_id = cursor.lastrowid
        found = await self.campaign(int(campaign_id or 0))
        assert found is not None
        return found

    async def campaign(self, campaign_id: int) -> Campaign | None:
        row = await self._one(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?", (campaign_id,)
        )
        return None if row is None else _campaign(row)

    async def campaign_by_origin(self, origin: str) -> Campaign | None:
        """The campaign a request (e.g. ``u<update_id>``) created, if it did already."""
        row = await self._one(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE origin = ?", (origin,)
        )
        return None if row is None else _campaign(row)

    async def latest_campaign(self) -> Campaign | None:
        row = await self._one(f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns ORDER BY id DESC")
        return None if row is None else _campaign(row)

    async def campaigns(
        self, *, closed_since: int | None = None, limit: int = 50
    ) -> list[Campaign]:
        """Open campaigns, plus closed ones closed at or after ``closed_since``; newest first.
        Deleted campaigns (/delete) are left out."""
        rows = await self._all(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE deleted_at IS NULL"
            " AND (closed_at IS NULL OR closed_at >= ?) ORDER BY id DESC LIMIT ?",
            (closed_since if closed_since is not None else self.now() + 1, limit),
        )
        return [_campaign(row) for row in rows]

    async def campaigns_in_chats(
        self, chat_ids: Sequence[int], *, closed_since: int, limit: int = 50
    ) -> list[Campaign]:
        """Like ``campaigns`` (deleted ones left out), but only those with a poll in one of
        ``chat_ids``."""
        if not chat_ids:
            return []
        marks = ", ".join("?" for _ in chat_ids)
        rows = await self._all(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE deleted_at IS NULL"
            " AND (closed_at IS NULL OR closed_at >= ?) AND id IN"
            f" (SELECT campaign_id FROM polls WHERE chat_id IN ({marks}))"
            " ORDER BY id DESC LIMIT ?",
            (closed_since, *chat_ids, limit),
        )
        return [_campaign(row) for row in rows]

    async def campaign_overview(
        self, *, closed_since: int, limit: int = 20
    ) -> list[CampaignSummary]:
        """Open campaigns and those closed since ``closed_since``, newest first, with totals."""
        rows = await self._all(
            "SELECT c.id, c.question, c.options, c.spec, c.article_id, c.created_by,"
            " c.created_at, c.closed_at, c.deleted_at, COALESCE(SUM(p.total_voters), 0) AS voters,"
            " GROUP_CONCAT(p.chat_id) AS chats"
            " FROM campaigns c LEFT JOIN polls p ON p.campaign_id = c.id"
            " WHERE c.closed_at IS NULL OR c.closed_at >= ?"
            " GROUP BY c.id ORDER BY c.id DESC LIMIT ?",
            (closed_since, limit),
        )
        return [
            CampaignSummary(
                _campaign(row),
                int(row["voters"]),
                tuple(int(chat) for chat in (row["chats"] or "").split(",") if chat),
            )
            for row in rows
        ]

    async def close_campaign(self, campaign_id: int, at: int | None = None) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE campaigns SET closed_at = COALESCE(closed_at, ?) WHERE id = ?",
                (at or self.now(), campaign_id),
            )

    async def close_finished_campaigns(self) -> list[int]:
        """Close every open campaign whose polls are all closed; return their ids."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "UPDATE campaigns SET closed_at = ? WHERE closed_at IS NULL"
                " AND EXISTS (SELECT 1 FROM polls p WHERE p.campaign_id = campaigns.id)"
                " AND NOT EXISTS (SELECT 1 FROM polls p"
                "   WHERE p.campaign_id = campaigns.id AND p.is_closed = 0)"
                " RETURNING id",
                (self.now(),),
            )
            rows = await cursor.fetchall()
        return sorted(int(row[0]) for row in rows)

    # -- polls --------------------------------------------------------------------------

    async def add_poll(
        self, campaign_id: int, chat_id: int, message_id: int, state: PollState
    ) -> None:
        """Record a poll the bot just sent (it may already exist from an early update)."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO polls (poll_id, campaign_id, chat_id, message_id, question, type,"
                " is_anonymous, allows_multiple, is_closed, close_date, total_voters,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (poll_id) DO UPDATE SET campaign_id = excluded.campaign_id,"
                " chat_id = excluded.chat_id, message_id = excluded.message_id,"
                " close_date = COALESCE(polls.close_date, excluded.close_date)",
                (
                    state.poll_id,
                    campaign_id,
                    chat_id,
                    message_id,
                    state.question,
                    state.type,
                    state.is_anonymous,
                    state.allows_multiple,
                    state.is_closed,
                    state.close_date,
                    state.total_voters,
                    self.now(),
                    self.now(),
                ),
            )
            # Options seen in an earlier update keep their counts; new ones start here.
            await conn.executemany(
                "INSERT INTO poll_options (poll_id, persistent_id, position, text, voter_count)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, persistent_id) DO NOTHING",
                _option_rows(state),
            )

    async def apply_poll_state(self, state: PollState) -> None:
        """Store a poll's latest full state (idempotent: the latest update wins).

        A closed poll stays closed with its final counts: an open state arriving after the
        close (a late update) changes nothing. The statements are queued inside a batch
        (no result is needed) and run grouped by statement; a closed state first runs what
        is queued, so that the states before it are written before the close guards them.
        """
        if state.is_closed:
            await self._sync()
        stamp = self.now()
        fresh = (state.is_closed, state.poll_id)  # the guard of every statement below
        await self._write_one(
            APPLY_POLL,
            (
                state.poll_id,
                state.question,
                state.type,
                state.is_anonymous,
                state.allows_multiple,
                state.is_closed,
                state.close_date,
                state.total_voters,
                stamp,
                stamp,
            ),
        )
        await self._write_many(
            APPLY_POLL_OPTIONS,
            [(*row, *fresh) for row in _option_rows(state)],
        )
        counts = {option.persistent_id: option.voter_count for option in state.options}
        await self._write_one(
            APPLY_POLL_SNAPSHOT,
            (state.poll_id, stamp // 60, state.total_voters, json.dumps(counts), *fresh),
        )

    async def poll(self, poll_id: str) -> PollRecord | None:
        row = await self._one(f"SELECT {_POLL_COLUMNS} FROM polls WHERE poll_id = ?", (poll_id,))
        return None if row is None else _poll(row)

    async def polls_of(self, campaign_id: int) -> list[PollRecord]:
        rows = await self._all(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE campaign_id = ? ORDER BY created_at, rowid",
            (campaign_id,),
        )
        return [_poll(row) for row in rows]

    async def counts_of(self, campaign_id: int) -> list[PollCounts]:
        """Every poll of a campaign with its latest option counts (no answer scan), the
        polls it had lost first adopted (``adopt_lost_polls``)."""
        await self.adopt_lost_polls(campaign_id)
        polls = await self.polls_of(campaign_id)
        if not polls:
            return []
        rows = await self._all(
            "SELECT o.poll_id, o.persistent_id, o.position, o.text, o.voter_count"
            " FROM poll_options o JOIN polls p ON p.poll_id = o.poll_id"
            " WHERE p.campaign_id = ? ORDER BY o.poll_id, o.position",
            (campaign_id,),
        )
        by_poll: dict[str, list[OptionCount]] = {}
        for row in rows:
            by_poll.setdefault(row["poll_id"], []).append(
                OptionCount(row["persistent_id"], row["position"], row["text"], row["voter_count"])
            )
        return [PollCounts(poll, tuple(by_poll.get(poll.poll_id, ()))) for poll in polls]

    async def adopt_lost_polls(self, campaign_id: int) -> int:
        """Link to this campaign each poll Telegram reported with no campaign known, whose
        question and options are those of one of its sendPoll intents that may have left a
        poll unrecorded (sent more than once after crashes, or never confirmed: a timeout;
        storage/outbox.py), the oldest intent first; how many were adopted."""
        orphans = await self._all(
            "SELECT DISTINCT p.poll_id, p.question FROM polls p"
            " JOIN outbox o ON o.question = p.question AND o.campaign_id = ?"
            " WHERE p.campaign_id IS NULL",
            (campaign_id,),
        )
        adopted = 0
        for poll_id, question in orphans:
            texts = [
                row[0]
                for row in await self._all(
                    "SELECT text FROM poll_options WHERE poll_id = ? ORDER BY position",
                    (poll_id,),
                )
            ]
            adopted += await self._adopt(campaign_id, poll_id, question, texts)
        return adopted

    async def _adopt(self, campaign_id: int, poll_id: str, question: str, texts: list[str]) -> int:
        async with self.write() as conn:
            async with conn.execute(
                "SELECT o.key, o.chat_id, o.options FROM outbox o"
                " LEFT JOIN sent s ON s.key = o.key"
                " WHERE o.campaign_id = ? AND o.question = ?"
                "   AND o.adopted < o.attempts - (s.key IS NOT NULL)"
                " ORDER BY o.created_at, o.key",
                (campaign_id, question),
            ) as cursor:
                candidates = await cursor.fetchall()
            for key, chat_id, sent_options in candidates:
                wanted = json.loads(sent_options)
                if texts[: len(wanted)] != wanted:
                    continue
                await conn.execute(
                    "UPDATE polls SET campaign_id = ?, chat_id = ? WHERE poll_id = ?",
                    (campaign_id, chat_id, poll_id),
                )
                await conn.execute("UPDATE outbox SET adopted = adopted + 1 WHERE key = ?", (key,))
                return 1
        return 0

    async def mark_polls_closed(self, poll_ids: Sequence[str]) -> None:
        async with self.write() as conn:
            await conn.executemany(
                "UPDATE polls SET is_closed = 1, updated_at = ? WHERE poll_id = ?",
                [(self.now(), poll_id) for poll_id in poll_ids],
            )

    async def expired_polls(self, at: int | None = None) -> list[PollRecord]:
        """Open polls whose close date has passed."""
        rows = await self._all(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE is_closed = 0 AND close_date <= ?",
            (at if at is not None else self.now(),),
        )
        return [_poll(row) for row in rows]
