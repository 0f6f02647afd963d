"""Shared helpers of the sandbox tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

RawCall = Callable[..., Coroutine[Any, Any, tuple[int, Any]]]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0"
    b"\x08\x02\x00\x00\x00" + b"\x00" * 64
)
"""Bytes with a PNG header saying 640x480 (enough for the sandbox to read the size)."""


@dataclass(frozen=True)
class Cast:
    """Ids of the people and chats the `cast` fixture creates."""

    admin: int = 1001
    alice: int = 1002
    bob: int = 1003
    stranger: int = 1004
    channel: int = -1001234567890
    supergroup: int = -1009876543210
    group: int = -4242
