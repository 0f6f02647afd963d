"""What every handler needs (config, store, clock, content), kept in ``application.bot_data``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext

from bot.config import Config
from bot.feature import CommandInfo
from storage import Store
from storage.clock import Clock

if TYPE_CHECKING:  # the runtime imports no feature package when it loads
    from bot.articles.content import Library

_KEY = "pollbot.services"


def _empty_library() -> Library:
    from bot.articles.content import Library

    return Library()


def _no_publishing(draft_id: int) -> None:
    raise RuntimeError("the drafts feature is not installed: nothing publishes drafts")


@dataclass
class Services:
    config: Config
    store: Store
    # chat id -> (expires at, monotonic clock; ids of the chat's administrators)
    admin_cache: dict[int, tuple[float, frozenset[int]]] = field(default_factory=dict)
    # the articles of [bot] content_dir, loaded by articles.on_startup
    library: Library = field(default_factory=_empty_library)
    # every feature's commands, for the menus and /help (bot.app hands them over)
    commands: tuple[CommandInfo, ...] = ()
    # user id -> monotonic times of their /results requests in the last minute (rate limit)
    results_requests: dict[int, list[float]] = field(default_factory=dict)
    # held while final posts, notes and reminders are read and sent (bot/polls/final.py,
    # reminders.py): one sender at a time, so that none goes out twice
    followups_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # the tasks sending them now (a test awaits them: tests/harness.py)
    followups_tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # drafts being published apart from the update that asked (bot/drafts/publishing.py):
    # the tasks sending them now (a test awaits them), one lock per draft (a second press,
    # a replay or the resume at start never runs one twice at once), and how to start one
    # (set by the drafts feature at start: /post and /poll with ``now`` use it too)
    publishing_tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    draft_locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    start_publishing: Callable[[int], None] = field(default=_no_publishing)

    @property
    def clock(self) -> Clock:
        """The one clock of the bot: the store's, which stamps the database's rows."""
        return self.store.clock

    def is_admin(self, user_id: int | None) -> bool:
        """True for the bot's own admins (``[bot] admins``)."""
        return user_id is not None and user_id in self.config.bot.admins


def install(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.bot_data[_KEY] = services


def of_app(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = application.bot_data.get(_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("services are not installed: run the post_init hook first")
    return found


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The services of the application running this callback."""
    return of_app(context.application)
