"""One bot per database: an exclusive lock on ``<database>.lock``, with the holder's pid.

``bot.app.run`` (``pollbot run`` and the demo) and a dead-letter replay take it before
anything else; a second one finds it taken and stops at once, naming the process that
holds it (two bots on one token would otherwise both retry getUpdates's "Conflict"
forever). The operating system releases the lock when the
process ends, however it ends; the file itself stays, holding the last pid.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.errors import StorageError


class DatabaseInUse(StorageError):
    """Another process holds the database's lock."""

    def __init__(self, database: Path, pid: int | None) -> None:
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"{database} is in use by {holder}")


class DatabaseLock:
    """The held lock of one database; ``release`` (or the process's end) lets it go."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1


def lock_database(database: Path) -> DatabaseLock:
    """Take the database's lock without waiting; DatabaseInUse if another process has it."""
    path = database.with_name(database.name + ".lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StorageError(f"cannot open the lock file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        raise DatabaseInUse(database, pid) from None
    except OSError as exc:
        os.close(fd)
        raise StorageError(f"cannot lock {path}: {exc.strerror}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DatabaseLock(path, fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdecimal() else None
