"""SQL of articles composed in Telegram (/newarticle), archived articles, the /newarticle
conversation of each admin, and posts at a set time (/post ... at, the Schedule button)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase

# A scheduled post's states: waiting, claimed (sending), and the three ends.
QUEUED, SENDING, SENT, UNQUEUED, MISSED = "pending", "sending", "sent", "cancelled", "missed"


@dataclass(frozen=True, slots=True)
class ComposedArticle:
    """An article made in Telegram, as stored."""

    id: str
    title: str
    language: str
    body: str  # HTML paragraphs separated by blank lines
    source: str  # "text", "forward" or "link"
    source_url: str | None
    summary: tuple[str, ...]
    poll: dict[str, object] | None  # spec_record of the poll
    image_file_id: str | None
    has_image_bytes: bool
    created_by: int
    created_at: int


@dataclass(frozen=True, slots=True)
class ComposeSession:
    """Where an admin's /newarticle conversation stands."""

    user_id: int
    step: str  # "article", "draft" or "when"
    draft_id: int | None
    refs: tuple[str, ...]
    updated_at: int


@dataclass(frozen=True, slots=True)
class ScheduledPost:
    id: int
    article_id: str
    targets: tuple[int, ...]
    due_at: int
    created_by: int
    created_at: int
    state: str
    origin: str
    claimed_at: int | None = None


_ARTICLE_COLUMNS = (
    "id, title, language, body, source, source_url, summary, poll, image_file_id,"
    " image IS NOT NULL AS has_image, created_by, created_at"
)
_POST_COLUMNS = (
    "id, article_id, targets, due_at, created_by, created_at, state, origin, claimed_at"
)


def _article(row: sqlite3.Row) -> ComposedArticle:
    return ComposedArticle(
        id=row["id"],
        title=row["title"],
        language=row["language"],
        body=row["body"],
        source=row["source"],
        source_url=row["source_url"],
        summary=tuple(json.loads(row["summary"])) if row["summary"] else (),
        poll=json.loads(row["poll"]) if row["poll"] else None,
        image_file_id=row["image_file_id"],
        has_image_bytes=bool(row["has_image"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _scheduled(row: sqlite3.Row) -> ScheduledPost:
    return ScheduledPost(
        id=row["id"],
        article_id=row["article_id"],
        targets=tuple(json.loads(row["targets"])),
        due_at=row["due_at"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        state=row["state"],
        origin=row["origin"],
        claimed_at=row["claimed_at"],
    )


class ComposeMixin(StoreBase):
    """Composed articles, archived ones, /newarticle conversations and scheduled posts."""

    async def _now(self, sql: str, params: Sequence[object]) -> None:
        """Run one statement at once (none of these may wait in a batch's queue)."""
        async with self.write() as conn:
            await conn.execute(sql, params)

    # -- composed articles --------------------------------------------------------------

    async def add_article(
        self,
        *,
        title: str,
        language: str,
        body: str,
        source: str,
        source_url: str | None,
        image_file_id: str | None,
        image: bytes | None,
        created_by: int,
        origin: str,
    ) -> str:
        """Store a composed article; its id ("a-<n>"). The same ``origin`` again (a replay)
        returns the article stored the first time."""
        found = await self._scalar("SELECT id FROM articles WHERE origin = ?", (origin,))
        if found is not None:
            return str(found)
        last = await self._scalar(
            "SELECT COALESCE(MAX(CAST(substr(id, 3) AS INTEGER)), 0) FROM articles"
            " WHERE id GLOB 'a-[0-9]*'"
        )
        article_id = f"a-{int(last) + 1}"  # the next number after every one taken
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO articles (id, title, language, body, source, source_url,"
                " image_file_id, image, created_by, created_at, origin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article_id,
                    title,
                    language,
                    body,
                    source,
                    source_url,
                    image_file_id,
                    image,
                    created_by,
                    self.now(),
                    origin,
                ),
            )
        return article_id

    async def composed_articles(self) -> list[ComposedArticle]:
        rows = await self._all(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY created_at, id")
        return [_article(row) for row in rows]

    async def set_article_summary(self, article_id: str, points: Sequence[str]) -> None:
        text = json.dumps(list(points), ensure_ascii=False) if points else None
        await self._now("UPDATE articles SET summary = ? WHERE id = ?", (text, article_id))

    async def set_article_poll(self, article_id: str, poll: dict[str, object] | None) -> None:
        text = None if poll is None else json.dumps(poll, ensure_ascii=False)
        await self._now("UPDATE articles SET poll = ? WHERE id = ?", (text, article_id))

    async def article_image(self, article_id: str) -> tuple[str | None, bytes | None]:
        """The lead image: Telegram's file id once known, else its bytes (None, None: none)."""
        row = await self._one(
            "SELECT image_file_id, image FROM articles WHERE id = ?", (article_id,)
        )
        if row is None:
            return None, None
        return row[0], None if row[1] is None else bytes(row[1])

    async def set_article_image_file_id(self, article_id: str, file_id: str) -> None:
        """Telegram keeps the image now: later posts send its id, the bytes go."""
        await self._now(
            "UPDATE articles SET image_file_id = ?, image = NULL WHERE id = ?",
            (file_id, article_id),
        )

    # -- archive ------------------------------------------------------------------------

    async def archive_article(self, article_id: str, user_id: int | None) -> bool:
        """Archive an article; False if it was archived before."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO archived_articles (article_id, archived_by, archived_at)"
                " VALUES (?, ?, ?) ON CONFLICT (article_id) DO NOTHING",
                (article_id, user_id, self.now()),
            )
            return cursor.rowcount == 1

    async def archived_article_ids(self) -> frozenset[str]:
        rows = await self._all("SELECT article_id FROM archived_articles")
        return frozenset(str(row[0]) for row in rows)

    # -- /newarticle conversations ------------------------------------------------------

    async def compose_session(self, user_id: int) -> ComposeSession | None:
        row = await self._one(
            "SELECT user_id, step, draft_id, refs, updated_at FROM compose_sessions"
            " WHERE user_id = ?",
            (user_id,),
        )
        if row is None:
            return None
        return ComposeSession(
            row["user_id"],
            row["step"],
            row["draft_id"],
            tuple(json.loads(row["refs"])),
            row["updated_at"],
        )

    async def set_compose_session(
        self, user_id: int, step: str, *, draft_id: int | None, refs: Sequence[str]
    ) -> None:
        await self._now(
            "INSERT INTO compose_sessions (user_id, step, draft_id, refs, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET step = excluded.step,"
            " draft_id = excluded.draft_id, refs = excluded.refs,"
            " updated_at = excluded.updated_at",
            (user_id, step, draft_id, json.dumps(list(refs)), self.now()),
        )

    async def end_compose_session(self, user_id: int) -> None:
        await self._now("DELETE FROM compose_sessions WHERE user_id = ?", (user_id,))

    async def set_draft_targets(self, draft_id: int, targets: Sequence[int]) -> None:
        await self._now(
            "UPDATE drafts SET targets = ? WHERE id = ?", (json.dumps(list(targets)), draft_id)
        )

    # -- scheduled posts ----------------------------------------------------------------

    async def schedule_post(
        self,
        article_id: str,
        targets: Sequence[int],
        due_at: int,
        *,
        created_by: int,
        origin: str,
    ) -> ScheduledPost:
        """Queue a post; the same ``origin`` again (a replay) returns the one queued first."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO scheduled_posts (article_id, targets, due_at, created_by,"
                " created_at, origin) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                (article_id, json.dumps(list(targets)), due_at, created_by, self.now(), origin),
            )
        row = await self._one(
            f"SELECT {_POST_COLUMNS} FROM scheduled_posts WHERE origin = ?", (origin,)
        )
        assert row is not None
        return _scheduled(row)

    async def scheduled_post(self, post_id: int) -> ScheduledPost | None:
        row = await self._one(
            f"SELECT {_POST_COLUMNS} FROM scheduled_posts WHERE id = ?", (post_id,)
        )
        return None if row is None else _scheduled(row)

    async def scheduled_posts(self, *states: str) -> list[ScheduledPost]:
        """Scheduled posts in these states, the soonest first."""
        marks = ", ".join("?" for _ in states)
        rows = await self._all(
            f"SELECT {_POST_COLUMNS} FROM scheduled_posts WHERE state IN ({marks})"
            " ORDER BY due_at, id",
            states,
        )
        return [_scheduled(row) for row in rows]

    async def claim_scheduled_post(self, post_id: int) -> bool:
        """Claim a due post for sending (committed before anything is sent); False if it
        was claimed, cancelled or reported missed before."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "UPDATE scheduled_posts SET state = ?, claimed_at = ?"
                " WHERE id = ? AND state = ? AND due_at <= ?",
                (SENDING, max(self.now(), self.opened_at), post_id, QUEUED, self.now()),
            )
            claimed = cursor.rowcount == 1
        await self.checkpoint()
        return claimed

    async def resume_scheduled_post(self, post_id: int) -> bool:
        """Take over a post that a past process claimed and did not finish (a crash); False
        if it was not claimed before this store was opened, or was taken over already."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "UPDATE scheduled_posts SET claimed_at = ?"
                " WHERE id = ? AND state = ? AND claimed_at < ?",
                (max(self.now(), self.opened_at), post_id, SENDING, self.opened_at),
            )
            return cursor.rowcount == 1

    async def finish_scheduled_post(self, post_id: int, state: str) -> bool:
        """Move a post to an end state (sent, cancelled, missed) from the state before it:
        cancelled and missed only while it waits. False if it could not move."""
        before = SENDING if state == SENT else QUEUED
        async with self.write() as conn:
            cursor = await conn.execute(
                "UPDATE scheduled_posts SET state = ?, done_at = ? WHERE id = ? AND state = ?",
                (state, self.now(), post_id, before),
            )
            return cursor.rowcount == 1
