"""SQL of per-voter answers in public polls: each voter's current choice, kept by upsert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from storage.base import StoreBase
from storage.deferred import RECORD_ANSWER


@dataclass(frozen=True, slots=True)
class Answer:
    poll_id: str
    voter: str
    is_chat: bool
    option_ids: tuple[str, ...]
    positions: tuple[int, ...]


class AnswersMixin(StoreBase):
    """Answers of public polls (counts come from poll states, not from here)."""

    async def record_answer(
        self,
        poll_id: str,
        voter: str,
        option_ids: Sequence[str],
        positions: Sequence[int],
        *,
        is_chat: bool = False,
    ) -> None:
        """Store a voter's whole current choice; an empty choice is a retraction.

        One upsert for both (a trigger deletes a row whose choice became empty), queued
        inside a batch: a batch of answers is a single executemany.
        """
        await self._write_one(
            RECORD_ANSWER,
            (
                poll_id,
                voter,
                is_chat,
                json.dumps(list(option_ids)),
                json.dumps(list(positions)),
                self.now(),
            ),
        )

    async def answers(self, poll_id: str) -> AsyncIterator[Answer]:
        """Every current answer of a poll, voter by voter (for export and checks)."""
        await self._sync()
        async with self._conn.execute(
            "SELECT poll_id, voter, is_chat, option_ids, positions FROM answers"
            " WHERE poll_id = ? ORDER BY voter",
            (poll_id,),
        ) as cursor:
            async for row in cursor:
                yield Answer(
                    row[0],
                    row[1],
                    bool(row[2]),
                    tuple(json.loads(row[3])),
                    tuple(json.loads(row[4])),
                )

    async def import_answers(
        self, poll_id: str, rows: Iterable[tuple[str, Sequence[str], Sequence[int]]]
    ) -> None:
        """Insert many (voter, option_ids, positions) answers at once (imports, benchmarks).

        Counts are not touched: give the poll its counts with ``apply_poll_state``.
        """
        stamp = self.now()
        async with self.write() as conn:
            await conn.executemany(
                "INSERT OR REPLACE INTO answers (poll_id, voter, is_chat, option_ids,"
                " positions, updated_at) VALUES (?, ?, 0, ?, ?, ?)",
                (
                    (poll_id, voter, json.dumps(list(ids)), json.dumps(list(positions)), stamp)
                    for voter, ids, positions in rows
                ),
            )

    async def answer_count(self, poll_id: str) -> int:
        return int(
            await self._scalar("SELECT COUNT(*) FROM answers WHERE poll_id = ?", (poll_id,))
        )
