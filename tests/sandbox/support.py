"""Shared helpers of the sandbox tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from tests import cast

RawCall = Callable[..., Coroutine[Any, Any, tuple[int, Any]]]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0"
    b"\x08\x02\x00\x00\x00" + b"\x00" * 64
)
"""Bytes with a PNG header saying 640x480 (enough for the sandbox to read the size)."""


@dataclass(frozen=True)
class Cast:
    """Ids of the people and chats the `cast` fixture creates (from tests/cast.py)."""

    admin: int = cast.ADMIN
    reader_ru: int = cast.READER_RU
    reader: int = cast.READER
    stranger: int = cast.STRANGER
    channel: int = cast.PLANTNEWS
    supergroup: int = cast.GROUP
    group: int = cast.SMALL_GROUP
