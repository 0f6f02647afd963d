"""Everything SQL: the connection, PRAGMAs, migrations and the ``Store`` class."""

from storage.base import StorageError
from storage.store import Store

__all__ = ["StorageError", "Store"]
