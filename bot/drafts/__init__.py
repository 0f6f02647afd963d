"""Drafts: the Publish and Cancel buttons under a preview of /post, /poll and /newpoll.

The commands store a draft and show its preview (bot/polls/preview.py); ``press`` handles
a press of its buttons: it publishes the draft once (however often it is pressed, and
after a crash in the middle), or cancels it. Callback queries come through the same
durable pump as every other update; the publishing itself runs apart from them
(bot/drafts/publishing.py), and a start finishes what a crash left half published.
"""

from __future__ import annotations

import functools
from typing import Any

from telegram.ext import CallbackQueryHandler

from bot.drafts import press, publishing
from bot.feature import Feature
from bot.polls.preview import CALLBACK_PATTERN
from bot.services import of_app


async def _on_startup(application: Any) -> None:
    """Let /post, /poll and /newpoll with ``now`` publish their drafts apart from the
    update too (bot/polls/preview.py ``publish_at_once``)."""
    of_app(application).start_publishing = functools.partial(publishing.start, application)


FEATURE = Feature(
    handlers=(CallbackQueryHandler(press.on_press, pattern=CALLBACK_PATTERN),),
    commands=(),
    on_startup=_on_startup,
    on_caught_up=publishing.resume,  # drafts a crash left half published
)
