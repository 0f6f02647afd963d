"""Online backups with SQLite's backup API: a consistent copy while the bot keeps writing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.base import BUSY_TIMEOUT_MS
from storage.errors import StorageError


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    schema_version: int


async def backup(source: Path, target: Path) -> BackupResult:
    """Copy the database at ``source`` to ``target`` (replaced atomically), then check it.

    The copy is a snapshot of one moment: every transaction committed before it is in,
    none after. It is written to a temporary file first, so a failed backup never leaves
    a half-written ``target``.
    """
    partial = await asyncio.to_thread(_prepare, source, target)
    try:
        async with aiosqlite.connect(f"file:{source}?mode=ro", uri=True) as db:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            async with aiosqlite.connect(partial) as copy:
                await db.backup(copy)
        return await asyncio.to_thread(_finish, partial, target)
    except (sqlite3.Error, OSError) as exc:
        await asyncio.to_thread(partial.unlink, True)
        raise StorageError(f"backup failed: {exc}") from exc


def _prepare(source: Path, target: Path) -> Path:
    if not source.is_file():
        raise StorageError(f"no database at {source}")
    if target.resolve() == source.resolve():
        raise StorageError("the backup must not overwrite the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    return partial


def _finish(partial: Path, target: Path) -> BackupResult:
    with sqlite3.connect(partial) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    if result != "ok":
        raise StorageError(f"the copy failed its integrity check: {result}")
    os.replace(partial, target)
    return BackupResult(target, target.stat().st_size, version)
