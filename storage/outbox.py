"""SQL of the outbox: each send's intent, committed before the request goes out.

bot/replies.py ``send_once`` opens an intent (and commits it) before it sends and records
the result in the ledger (``sent``) after, so the window in which a crash can repeat a
message is one round trip, and a repeat is known: the intent's ``attempts`` says so. A poll
whose request was sent more than once, or never confirmed (a timeout), may have reached
the chat without reaching the database; ``adopt_orphan_polls`` links such a poll (stored
from its ``poll`` update, campaign unknown) to its campaign by its question and options.
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


@dataclass(frozen=True, slots=True)
class Adoption:
    """A poll found in a chat that the database had lost, now in its campaign."""

    poll_id: str
    campaign_id: int
    chat_id: int


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

    async def adopt_orphan_polls(self) -> list[Adoption]:
        """Link each poll with no campaign to the sendPoll intent it came from, if one may
        have left an unrecorded poll (sent twice, or never confirmed) with the same question
        and options; the oldest such intent first. Returns what was adopted."""
        orphans = await self._all("SELECT poll_id, question FROM polls WHERE campaign_id IS NULL")
        adopted: list[Adoption] = []
        for poll_id, question in orphans:
            rows = await self._all(
                "SELECT text FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
            )
            found = await self._adopt(poll_id, question, [row[0] for row in rows])
            if found is not None:
                adopted.append(found)
        return adopted

    async def _adopt(self, poll_id: str, question: str, texts: list[str]) -> Adoption | None:
        async with self.write() as conn:
            async with conn.execute(
                "SELECT o.key, o.chat_id, o.campaign_id, o.options FROM outbox o"
                " LEFT JOIN sent s ON s.key = o.key"
                " WHERE o.question = ? AND o.campaign_id IS NOT NULL"
                "   AND o.adopted < o.attempts - (s.key IS NOT NULL)"
                " ORDER BY o.created_at, o.key",
                (question,),
            ) as cursor:
                candidates = await cursor.fetchall()
            for key, chat_id, campaign_id, sent_options in candidates:
                wanted = json.loads(sent_options)
                if texts[: len(wanted)] != wanted:
                    continue
                await conn.execute(
                    "UPDATE polls SET campaign_id = ?, chat_id = ? WHERE poll_id = ?",
                    (campaign_id, chat_id, poll_id),
                )
                await conn.execute(
                    "UPDATE outbox SET adopted = adopted + 1 WHERE key = ?", (key,)
                )
                return Adoption(poll_id, int(campaign_id), int(chat_id))
        return None
