"""The one error storage/ raises for a database that cannot be used."""

from __future__ import annotations


class StorageError(RuntimeError):
    """The database cannot be used (newer than the code, failed migration...)."""
