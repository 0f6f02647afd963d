"""SQL of the count time series: at most one point per poll per minute, thinned with age.

The points are written with each poll state (storage/polls.py); digests read them as a
trend, and ``thin_snapshots`` keeps the series bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from storage.base import GET_STATE, StoreBase
from storage.deferred import SET_STATE


@dataclass(frozen=True, slots=True)
class Snapshot:
    poll_id: str
    minute: int
    total: int
    counts: dict[str, int]


# Snapshot thinning: (bucket, age) in minutes. Points older than ``age`` keep only the
# latest point of each ``bucket``: one a minute for a day, one an hour for 30 days, then
# one a day. Each pass only looks at points newer than the previous pass (a watermark).
SNAPSHOT_TIERS = ((60, 24 * 60), (24 * 60, 30 * 24 * 60))


class SnapshotsMixin(StoreBase):
    """Count snapshots for trends."""

    async def snapshots(self, poll_id: str, *, since_minute: int = 0) -> list[Snapshot]:
        rows = await self._all(
            "SELECT poll_id, minute, total, counts FROM snapshots"
            " WHERE poll_id = ? AND minute >= ? ORDER BY minute",
            (poll_id, since_minute),
        )
        return [Snapshot(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    async def total_at(self, poll_id: str, minute: int) -> int | None:
        """A poll's voters at ``minute`` (its latest snapshot then), None before its first
        (the digests' week over week)."""
        value = await self._scalar(
            "SELECT total FROM snapshots WHERE poll_id = ? AND minute <= ?"
            " ORDER BY minute DESC LIMIT 1",
            (poll_id, minute),
        )
        return None if value is None else int(value)

    async def thin_snapshots(self, at: int | None = None) -> int:
        """Keep the time series bounded (see SNAPSHOT_TIERS); return how many points went.

        Cheap: each tier only visits the polls updated since its previous pass, and for
        each of them the range of minutes between the previous pass and this one.
        """
        minute = (at if at is not None else self.now()) // 60
        removed = 0
        for bucket, age in SNAPSHOT_TIERS:
            key = f"snapshots.thinned.{bucket}"
            since = int(await self._scalar(GET_STATE, (key,)) or 0)
            cutoff = (minute - age) // bucket * bucket
            if cutoff <= since:
                continue
            async with self.write() as conn:
                cursor = await conn.execute(
                    "DELETE FROM snapshots WHERE poll_id IN"
                    " (SELECT poll_id FROM polls WHERE updated_at >= ?)"
                    " AND minute >= ? AND minute < ? AND EXISTS (SELECT 1 FROM snapshots later"
                    "   WHERE later.poll_id = snapshots.poll_id"
                    "   AND later.minute > snapshots.minute"
                    "   AND later.minute < (snapshots.minute / ? + 1) * ?)",
                    (since * 60, since, cutoff, bucket, bucket),
                )
                removed += max(cursor.rowcount, 0)
                await conn.execute(SET_STATE, (key, str(cutoff)))  # with the DELETE
        return removed

    async def snapshot_series(
        self, poll_id: str, *, since_minute: int, bucket_minutes: int
    ) -> list[Snapshot]:
        """A poll's snapshots thinned to the last one of each ``bucket_minutes`` window,
        so a long-running poll gives a chart-sized series without decoding every row."""
        # SQLite takes the bare columns of a MAX() aggregate from the row holding the max.
        rows = await self._all(
            "SELECT poll_id, MAX(minute), total, counts FROM snapshots"
            " WHERE poll_id = ? AND minute >= ? GROUP BY minute / ? ORDER BY 2",
            (poll_id, since_minute, max(1, bucket_minutes)),
        )
        return [Snapshot(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    async def import_snapshots(self, snapshots: Iterable[Snapshot]) -> None:
        """Store many snapshots at once (imports and benchmarks; the bot writes them one
        at a time with each poll state)."""
        async with self.write() as conn:
            await conn.executemany(
                "INSERT OR REPLACE INTO snapshots (poll_id, minute, total, counts)"
                " VALUES (?, ?, ?, ?)",
                ((s.poll_id, s.minute, s.total, json.dumps(s.counts)) for s in snapshots),
            )
