"""Everything SQL: the connection, PRAGMAs, migrations and the ``Store`` class."""

from storage.errors import StorageError
from storage.store import Store

__all__ = ["StorageError", "Store"]
