"""The time as pollbot sees it: one clock, shared by the store and the bot.

``Store.open(path, clock=...)`` keeps it and ``Services.clock`` is the same object, so a
test that sets a fake clock moves the database's timestamps and the digests' "now" together.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """The system clock; a fake for tests overrides ``time`` (and may override ``utc``)."""

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def seconds(self) -> int:
        """Whole seconds since the epoch: the unit of every timestamp in the database."""
        return int(self.time())

    def utc(self) -> datetime:
        """Now as an aware UTC datetime: the unit of digests and schedules."""
        return datetime.fromtimestamp(self.time(), UTC)


class ManualClock(Clock):
    """A clock that stands still until moved: for tests, benchmarks and imports of old data."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, seconds: float) -> None:
        self._at += timedelta(seconds=seconds)

    def time(self) -> float:
        return self._at.timestamp()

    def utc(self) -> datetime:
        return self._at.astimezone(UTC)
