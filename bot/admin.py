"""Admins: command menus, /help, the chats the bot is in, approvals and the audit log."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []


async def on_startup(application: Any) -> None:
    """Set the command menus and learn the configured channels."""
