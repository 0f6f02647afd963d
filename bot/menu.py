"""What a command is, for the command menus and /help: each feature lists its COMMANDS."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str  # without the slash
    summary: str  # an English msgid marked with N_(), shown in the menu and in /help
    example: str  # one example of use, e.g. "/post moscow-plant-reboot @mychannel"
    admin: bool  # only for admins
    chat_admin: bool = False  # an admin command a chat's own administrators may use there
