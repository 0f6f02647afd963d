"""Articles: the greeting and, later, posting articles and serving their summaries."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.texts import gettext_for


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a user who opens the bot."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    _ = gettext_for(user.language_code if user else None)
    await message.reply_text(
        _(
            "Hi! I post articles with a short summary and run polls about them. "
            "Send /help to see what I can do."
        )
    )


HANDLERS: list[Any] = [
    CommandHandler("start", start),
]


async def on_startup(application: Any) -> None:
    """Load the content library."""
