"""What a command is: its handler, and its entry in the command menus and /help (each
feature lists its COMMANDS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CommandHandler, filters

from bot.auth import Callback

# New messages only: an edited /post (or /digest...) must not act a second time.
_NEW_MESSAGES = filters.UpdateType.MESSAGE


def command(name: str, callback: Callback) -> CommandHandler[Any, None]:
    """The handler of a /command: it answers new messages, never an edit of one."""
    return CommandHandler(name, callback, filters=_NEW_MESSAGES)


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str  # without the slash
    summary: str  # an English msgid marked with N_(), shown in the menu and in /help
    example: str  # one example of use, e.g. "/post moscow-plant-reboot @mychannel"
    admin: bool  # only for admins
    chat_admin: bool = False  # an admin command a chat's own administrators may use there
