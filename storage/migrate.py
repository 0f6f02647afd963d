"""The migration runner: brings a database to the schema of storage/migrations/.

Migrations are append-only numbered scripts (``NNN_name.sql``). ``PRAGMA user_version``
holds the number of the last one applied; a database newer than the code is refused, and
each pending script runs in its own ``BEGIN IMMEDIATE`` transaction together with the
new ``user_version`` (transactional in SQLite), so a failed step leaves it unchanged.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from importlib import resources

import aiosqlite

from storage.errors import StorageError

log = logging.getLogger(__name__)

_MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migration scripts shipped with the package, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise StorageError(f"migrations are not numbered 1..N without gaps: {numbers}")
    return found


async def migrate(conn: aiosqlite.Connection) -> None:
    """Apply every pending migration; refuse a database newer than the code."""
    scripts = migrations()
    current = int((await (await conn.execute("PRAGMA user_version")).fetchone() or [0])[0])
    latest = scripts[-1][0] if scripts else 0
    if current > latest:
        raise StorageError(
            f"the database is at schema version {current}, newer than this pollbot "
            f"({latest}): upgrade pollbot"
        )
    for number, name, sql in scripts:
        if number > current:
            await _apply(conn, number, name, sql)


async def _apply(conn: aiosqlite.Connection, number: int, name: str, sql: str) -> None:
    """Run one script and set ``user_version`` to its number, all or nothing."""
    log.info("applying migration %s", name)
    try:
        # executescript would commit first; run the script inside our own transaction
        # so a failing step leaves user_version (transactional) unchanged.
        await conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(sql):
            await conn.execute(statement)
        await conn.execute(f"PRAGMA user_version = {number:d}")
        await conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise StorageError(f"migration {name} failed: {exc}") from exc


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3.complete_statement)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise StorageError(f"incomplete statement at the end of a migration: {pending[:60]!r}")
    return statements
