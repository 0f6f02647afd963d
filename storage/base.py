"""The single writer connection: PRAGMAs and the transaction discipline.

One aiosqlite connection (one worker thread) serialises every write. The update pump
holds a *batch* transaction while it runs a batch of updates through the handlers; Store
methods called from inside it join that transaction, so the batch's writes and the next
offset commit together. Writes from anywhere else (jobs, the CLI) wait for the batch and
run in a transaction of their own.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite

from storage.clock import Clock
from storage.deferred import DEFERRABLE
from storage.errors import StorageError
from storage.migrate import migrate

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000

# The bot's own key/value state (offsets, watermarks), read by several mixins.
GET_STATE = "SELECT value FROM state WHERE key = ?"


class StoreBase:
    """Owns the connection; feature mixins add the SQL of their tables.

    Inside a batch, the writes of storage/deferred.py's ``DEFERRABLE`` statements
    (``_write_one``/``_write_many``, which refuse any other) are queued and run with one
    ``executemany`` per statement when something needs the database: a read, an immediate
    write (``write()``, every other statement), a checkpoint or the commit. That keeps a few
    aiosqlite round trips per batch instead of several per update. A failed update's queued
    writes are dropped; if it had already run SQL, a savepoint opened just before undoes that
    too.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._conn = conn
        self.path = path
        self.clock = clock
        self.opened_at = clock.seconds()  # what was claimed before this was a past process
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._deferred: list[tuple[str, tuple[Any, ...]]] = []
        self._scope = False  # an update is being handled inside the batch
        self._mark = 0  # its first queued write
        self._savepoint = False  # a savepoint guards the SQL it already ran

    @classmethod
    async def open(cls, path: str | Path, *, clock: Clock | None = None) -> Self:
        """Open (creating if needed) and migrate the database at ``path``.

        ``clock`` stamps every row the store writes (the system clock unless given)."""
        path = Path(path)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _configure(conn)
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path, clock or Clock())

    @classmethod
    async def open_existing(cls, path: Path) -> Self:
        """Open a database that must be there already (the CLI's reading commands): a
        StorageError, never a new empty file, if it is missing or not a database."""
        if not await asyncio.to_thread(path.is_file):
            raise StorageError(f"no database at {path}")
        try:
            return await cls.open(path)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {path}: {exc}") from exc

    async def close(self) -> None:
        await self._conn.close()

    def now(self) -> int:
        """Now in whole seconds, by the store's clock: the unit of its timestamps."""
        return self.clock.seconds()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transactions -------------------------------------------------------------------

    def _in_batch(self) -> bool:
        owner = self._owner
        return owner is not None and owner is asyncio.current_task()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """One transaction around a whole batch of updates (used by the pump)."""
        async with self._lock:
            self._owner = asyncio.current_task()
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                await self._flush()
            except BaseException:
                self._deferred.clear()
                await self._rollback_quietly()
                raise
            else:
                await self._conn.execute("COMMIT")
            finally:
                self._owner = None
                self._scope = self._savepoint = False

    @asynccontextmanager
    async def update_scope(self) -> AsyncIterator[None]:
        """Inside a batch: undo one update's writes if its handler fails."""
        if not self._in_batch():
            yield
            return
        self._scope, self._mark, self._savepoint = True, len(self._deferred), False
        try:
            yield
        except BaseException:
            del self._deferred[self._mark :]
            if self._savepoint:
                await self._conn.execute("ROLLBACK TO one_update")
                await self._conn.execute("RELEASE one_update")
            raise
        else:
            if self._savepoint:
                await self._conn.execute("RELEASE one_update")
        finally:
            self._scope = self._savepoint = False

    async def checkpoint(self) -> None:
        """Make everything written so far durable now (after a message was sent).

        Inside a batch this commits the batch so far and carries on in a new transaction;
        the offset is not part of it, so a replay re-runs the idempotent writes and skips
        the sends recorded here.
        """
        if not self._in_batch():
            return
        await self._flush()
        if self._savepoint:
            await self._conn.execute("RELEASE one_update")
        await self._conn.execute("COMMIT")
        await self._conn.execute("BEGIN IMMEDIATE")
        self._savepoint, self._mark = False, 0

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write: joins the running batch, or runs in its own transaction."""
        if self._in_batch():
            await self._sync(writing=True)
            yield self._conn
            return
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._rollback_quietly()
                raise
            else:
                await self._conn.execute("COMMIT")

    async def _write_one(self, sql: str, params: Iterable[Any]) -> None:
        """A deferrable write (see storage/deferred.py): queued inside a batch, else run now."""
        _check_deferrable(sql)
        if self._in_batch():
            self._deferred.append((sql, tuple(params)))
            return
        async with self.write() as conn:
            await conn.execute(sql, tuple(params))

    async def _write_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Many rows of a deferrable write: queued inside a batch, else run now."""
        _check_deferrable(sql)
        if self._in_batch():
            self._deferred.extend((sql, tuple(row)) for row in rows)
            return
        async with self.write() as conn:
            await conn.executemany(sql, [tuple(row) for row in rows])

    async def _sync(self, *, writing: bool = False) -> None:
        """Run the queued writes before the batch owner touches the database itself."""
        if not self._in_batch():
            return
        own = len(self._deferred) > self._mark
        if self._scope and not self._savepoint and (own or writing):
            # This update is about to run SQL: earlier updates' writes go first, then a
            # savepoint, so that a failure of this update can be undone alone.
            await self._run(self._deferred[: self._mark])
            del self._deferred[: self._mark]
            await self._conn.execute("SAVEPOINT one_update")
            self._savepoint, self._mark = True, 0
        await self._flush()

    async def _flush(self) -> None:
        pending, self._deferred = self._deferred, []
        self._mark = 0
        await self._run(pending)

    async def _run(self, ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Run queued writes: one executemany per statement, in the order each first came.

        Votes interleave answers with poll states, so grouping by statement (each one's rows
        kept in order) is what makes a batch a handful of round trips, not four per vote.
        Only the statements of ``DEFERRABLE`` get here: storage/deferred.py says why their
        order does not matter.
        """
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for sql, params in ops:
            grouped.setdefault(sql, []).append(params)
        for sql, rows in grouped.items():
            await self._conn.executemany(sql, rows)

    async def _rollback_quietly(self) -> None:
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")

    # -- reading ------------------------------------------------------------------------

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return next(iter(rows), None)

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        await self._sync()
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]


def _check_deferrable(sql: str) -> None:
    """Refuse to queue a statement whose order against the others nobody checked."""
    if sql not in DEFERRABLE:
        raise AssertionError(
            "only the statements of storage.deferred.DEFERRABLE may be deferred; run this "
            f"one at once with write(): {sql[:80]!r}"
        )


async def _configure(conn: aiosqlite.Connection) -> None:
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
