"""Drafts: the Publish and Cancel buttons under a preview of /post, /poll and /newpoll.

The commands store a draft and show its preview (bot/polls/preview.py); ``press`` handles
a press of its buttons: it publishes the draft once (however often it is pressed, and
after a crash in the middle), or cancels it. Callback queries come through the same
durable pump as every other update.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler

from bot.drafts import press
from bot.feature import Feature
from bot.polls.preview import CALLBACK_PATTERN


async def _nothing_at_startup(application: object) -> None:
    """Drafts need nothing at start: they live in SQLite and expire when pressed late."""


FEATURE = Feature(
    handlers=(CallbackQueryHandler(press.on_press, pattern=CALLBACK_PATTERN),),
    commands=(),
    on_startup=_nothing_at_startup,
)
