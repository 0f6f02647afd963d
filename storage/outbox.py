"""SQL of the outbox: each send's intent, committed before the request goes out.

bot/replies.py ``send_once`` opens an intent (and commits it) before it sends and records
the result in the ledger (``sent``) after, so the window in which a crash can repeat a
message is one round trip, and a repeat is known: the intent's ``attempts`` says so. A poll
whose request was sent more than once, or never confirmed (a timeout), may have reached
the chat without reaching the database; storage/polls.py adopts such a poll (stored from
its ``poll`` update, campaign unknown) into its campaign by its question and options before
it reads the campaign's counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.base import StoreBase


@dataclass(frozen=True, slots=True)
class PollIntent:
    """What a sendPoll intent remembers to recognise its poll: campaign and texts."""

    campaign_id: int
    question: str
    options: tuple[str, ...]


class OutboxMixin(StoreBase):
    """Intents of sends (storage/migrations/004_outbox.sql)."""

    async def open_intent(self, key: str, chat_id: int, poll: PollIntent | None = None) -> int:
        """Record that ``key`` is about to be sent, durably (a checkpoint); return how many
        requests it has had, this one included (more than 1: an earlier one may have
        arrived, the process having died before its result was recorded)."""
        async with self.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO outbox (key, chat_id, campaign_id, question, options, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1 RETURNING attempts",
                (
                    key,
                    chat_id,
                    poll.campaign_id if poll else None,
                    poll.question if poll else None,
                    json.dumps(list(poll.options), ensure_ascii=False) if poll else None,
                    self.now(),
                ),
            )
            row = await cursor.fetchone()
        await self.checkpoint()
        return int(row[0]) if row else 1

    async def close_intent(self, key: str) -> None:
        """The last request of ``key`` was refused: it sent nothing (one attempt less)."""
        async with self.write() as conn:
            await conn.execute("UPDATE outbox SET attempts = attempts - 1 WHERE key = ?", (key,))
            await conn.execute("DELETE FROM outbox WHERE key = ? AND attempts <= 0", (key,))
