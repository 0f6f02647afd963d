"""What a feature is: its handlers, its commands (menus and /help) and its start-up hooks.

Each feature package (``bot.polls``, ``bot.articles``, ``bot.digests``, ``bot.admin``)
exports one ``FEATURE``; ``bot.app`` lists them and is the only place handlers are
registered. Menus and /help are built from the commands of the features they are handed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackContext, CommandHandler, filters

Context = CallbackContext[Any, Any, Any, Any]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
PTBApplication = Application[Any, Any, Any, Any, Any, Any]
Handler = BaseHandler[Any, Any, Any]
StartupHook = Callable[[PTBApplication], Awaitable[None]]

# New messages only: an edited /post (or /digest...) must not act a second time.
_NEW_MESSAGES = filters.UpdateType.MESSAGE
FIRST_COMMANDS = ("start", "help")  # shown first in menus and /help


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


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature of the bot, as ``bot.app`` wires it."""

    handlers: Sequence[Handler]
    commands: Sequence[CommandInfo]
    on_startup: StartupHook
    # Run once the updates that waited at Telegram while the bot was down are applied
    # (e.g. a digest missed meanwhile, so that it shows the votes cast meanwhile).
    on_caught_up: StartupHook | None = None


def all_commands(features: Sequence[Feature]) -> tuple[CommandInfo, ...]:
    """The commands of these features in their order (first wins on a name), with /start
    and /help first."""
    found: dict[str, CommandInfo] = {}
    for feature in features:
        for info in feature.commands:
            found.setdefault(info.name, info)
    first = [found[name] for name in FIRST_COMMANDS if name in found]
    return (*first, *(c for c in found.values() if c.name not in FIRST_COMMANDS))
