"""SQL of posted articles and of who asked for their summaries."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import StoreBase


@dataclass(frozen=True, slots=True)
class PostRecord:
    """One article posted to one chat: the message ids of its parts, and its poll campaign."""

    id: int
    article_id: str
    chat_id: int
    language: str
    message_ids: tuple[int, ...]
    campaign_id: int | None
    posted_by: int | None
    posted_at: int


_POST_COLUMNS = "id, article_id, chat_id, language, message_ids, campaign_id, posted_by, posted_at"


def _post(row: sqlite3.Row) -> PostRecord:
    return PostRecord(
        id=row["id"],
        article_id=row["article_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        message_ids=tuple(json.loads(row["message_ids"])),
        campaign_id=row["campaign_id"],
        posted_by=row["posted_by"],
        posted_at=row["posted_at"],
    )


class ArticlesMixin(StoreBase):
    """Posts of articles to chats and summary requests (each user counted once)."""

    # -- posts --------------------------------------------------------------------------

    async def record_post(
        self,
        article_id: str,
        chat_id: int,
        *,
        language: str,
        message_ids: Sequence[int],
        campaign_id: int | None,
        posted_by: int | None,
        origin: str,
    ) -> None:
        """Record a post; recording the same ``origin`` again (a replay) updates it."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO posts (article_id, chat_id, language, message_ids, campaign_id,"
                " posted_by, posted_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (origin) DO UPDATE SET message_ids = excluded.message_ids,"
                " campaign_id = COALESCE(excluded.campaign_id, posts.campaign_id)",
                (
                    article_id,
                    chat_id,
                    language,
                    json.dumps(list(message_ids)),
                    campaign_id,
                    posted_by,
                    self.now(),
                    origin,
                ),
            )

    async def posts_of(self, article_id: str) -> list[PostRecord]:
        """Every post of an article, oldest first."""
        rows = await self._all(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE article_id = ? ORDER BY id",
            (article_id,),
        )
        return [_post(row) for row in rows]

    async def post_counts(self) -> dict[str, int]:
        """How many times each article was posted (one per chat it went to)."""
        rows = await self._all("SELECT article_id, COUNT(*) FROM posts GROUP BY article_id")
        return {row[0]: int(row[1]) for row in rows}

    # -- summary requests ---------------------------------------------------------------

    async def record_summary_request(
        self, article_id: str, user_id: int, language: str | None
    ) -> bool:
        """Count a user who asked for an article's summary; True the first time only."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO summary_requests (article_id, user_id, language, first_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (article_id, user_id) DO NOTHING",
                (article_id, user_id, language, self.now()),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "INSERT INTO article_stats (article_id, summary_readers) VALUES (?, 1)"
                " ON CONFLICT (article_id) DO UPDATE"
                " SET summary_readers = article_stats.summary_readers + 1",
                (article_id,),
            )
            return True

    async def summary_readers(self, article_id: str) -> int:
        """How many users asked for this article's summary (kept on write: no scan)."""
        value = await self._scalar(
            "SELECT summary_readers FROM article_stats WHERE article_id = ?", (article_id,)
        )
        return 0 if value is None else int(value)
