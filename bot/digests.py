"""Digests: scheduled result summaries with charts, that survive restarts."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []


async def on_startup(application: Any) -> None:
    """Register the stored schedules with the JobQueue and send missed digests."""
