"""SQL of the chats the bot knows: channels and groups it posts to, with its rights there."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.base import StoreBase


@dataclass(frozen=True, slots=True)
class ChatRecord:
    chat_id: int
    type: str
    title: str | None
    username: str | None
    language: str | None
    bot_status: str
    can_post: bool
    approved: bool
    gone_reported: bool
    timezone: str | None = None  # a private chat: its user's own (/timezone)

    @property
    def display(self) -> str:
        return f"@{self.username}" if self.username else (self.title or str(self.chat_id))

    @property
    def is_gone(self) -> bool:
        return self.bot_status in ("kicked", "left")


_COLUMNS = (
    "chat_id, type, title, username, language, bot_status, can_post, approved, gone_reported,"
    " timezone"
)


def _chat(row: sqlite3.Row) -> ChatRecord:
    return ChatRecord(
        chat_id=row["chat_id"],
        type=row["type"],
        title=row["title"],
        username=row["username"],
        language=row["language"],
        bot_status=row["bot_status"],
        can_post=bool(row["can_post"]),
        approved=bool(row["approved"]),
        gone_reported=bool(row["gone_reported"]),
        timezone=row["timezone"],
    )


class ChatsMixin(StoreBase):
    """Chats, the bot's status in them, and which ones admins approved as targets."""

    async def upsert_chat(
        self,
        chat_id: int,
        type: str,
        title: str | None,
        username: str | None,
        *,
        bot_status: str | None = None,
        can_post: bool | None = None,
        approved: bool | None = None,
    ) -> ChatRecord:
        """Insert or refresh a chat; None leaves a field as it was."""
        async with self.write() as conn:
            await conn.execute(
                "INSERT INTO chats (chat_id, type, title, username, bot_status, can_post,"
                " approved, updated_at) VALUES (?, ?, ?, ?, COALESCE(?, 'unknown'),"
                " COALESCE(?, 0), COALESCE(?, 0), ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET type = excluded.type,"
                " title = COALESCE(excluded.title, chats.title),"
                " username = COALESCE(excluded.username, chats.username),"
                " bot_status = COALESCE(?, chats.bot_status),"
                " can_post = COALESCE(?, chats.can_post),"
                " approved = COALESCE(?, chats.approved),"
                " gone_reported = CASE WHEN ? IN ('administrator', 'member', 'creator')"
                "   THEN 0 ELSE chats.gone_reported END,"
                " updated_at = excluded.updated_at",
                (
                    chat_id,
                    type,
                    title,
                    username,
                    bot_status,
                    can_post,
                    approved,
                    self.now(),
                    bot_status,
                    can_post,
                    approved,
                    bot_status,
                ),
            )
        found = await self.chat(chat_id)
        assert found is not None
        return found

    async def chat(self, chat_id: int) -> ChatRecord | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,))
        return None if row is None else _chat(row)

    async def chat_by_username(self, username: str) -> ChatRecord | None:
        row = await self._one(
            f"SELECT {_COLUMNS} FROM chats WHERE username = ? COLLATE NOCASE",
            (username.removeprefix("@"),),
        )
        return None if row is None else _chat(row)

    async def chats(self, *, types: tuple[str, ...] = ()) -> list[ChatRecord]:
        rows = await self._all(f"SELECT {_COLUMNS} FROM chats ORDER BY type, title, chat_id")
        chats = [_chat(row) for row in rows]
        return [c for c in chats if c.type in types] if types else chats

    async def approved_chats(self) -> list[ChatRecord]:
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM chats WHERE approved = 1 ORDER BY title, chat_id"
        )
        return [_chat(row) for row in rows]

    async def set_approved(self, chat_id: int, approved: bool) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE chats SET approved = ?, updated_at = ? WHERE chat_id = ?",
                (approved, self.now(), chat_id),
            )

    async def set_chat_timezone(self, chat_id: int, timezone: str | None) -> None:
        """A user's own time zone, on their private chat's row (None: the bot's)."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE chats SET timezone = ?, updated_at = ? WHERE chat_id = ?",
                (timezone, self.now(), chat_id),
            )

    async def set_chat_language(self, chat_id: int, language: str | None) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE chats SET language = ?, updated_at = ? WHERE chat_id = ?",
                (language, self.now(), chat_id),
            )

    async def mark_gone(self, chat_id: int, status: str = "kicked") -> bool:
        """Record that the bot lost a chat; True the first time (so admins are told once)."""
        async with self.write() as conn:
            await conn.execute(
                "UPDATE chats SET bot_status = ?, can_post = 0, updated_at = ? WHERE chat_id = ?",
                (status, self.now(), chat_id),
            )
            cursor = await conn.execute(
                "UPDATE chats SET gone_reported = 1 WHERE chat_id = ? AND gone_reported = 0",
                (chat_id,),
            )
            return cursor.rowcount == 1

    async def forget_chat(self, chat_id: int) -> None:
        async with self.write() as conn:
            await conn.execute(
                "UPDATE chats SET approved = 0, updated_at = ? WHERE chat_id = ?",
                (self.now(), chat_id),
            )
