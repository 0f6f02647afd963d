"""Articles: the library (files and articles composed in Telegram), posting an article with
its poll, now or at a set time, and what readers get.

``content`` loads and validates the TOML articles; ``library`` merges them with the
composed ones (/article, /delarticle, /reload); ``compose`` and ``fetch`` turn text, a
forwarded post or a link into an article, ``newarticle`` is the /newarticle conversation;
``view`` renders a post and a summary; ``summary`` splits text and writes the automatic
summary; ``posting`` sends an article to chats (``/post``, ``/articles``); ``scheduled``
holds posts at a set time (``/queue``, ``/unqueue``); ``readers`` answers ``/start`` and
``/summary``.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import MessageHandler, filters

from bot.articles import library, newarticle, posting, readers, scheduled
from bot.feature import CommandInfo, Feature, command
from bot.texts import N_


async def on_startup(application: Any) -> None:
    """Load the library (files and composed articles), then give scheduled posts their jobs."""
    await library.reload(application)
    await scheduled.on_startup(application)


# A private message that is not a command: the next step of a /newarticle conversation.
_COMPOSE_MESSAGES = (
    filters.UpdateType.MESSAGE
    & filters.ChatType.PRIVATE
    & ~filters.COMMAND
    & (filters.TEXT | filters.PHOTO)
)

FEATURE = Feature(
    handlers=(
        command("start", readers.start),
        command("summary", readers.send_summary),
        command("post", posting.post_article),
        command("articles", posting.list_articles),
        command("article", library.show_article),
        command("delarticle", library.archive_article),
        command("reload", library.reload_content),
        command("newarticle", newarticle.new_article),
        command("queue", scheduled.list_queue),
        command("unqueue", scheduled.unqueue),
        MessageHandler(_COMPOSE_MESSAGES, newarticle.on_message),
    ),
    commands=(
        CommandInfo(
            "post",
            N_("Post an article and its poll to channels, now or at a set time"),
            "/post moscow-plant-reboot @mychannel",
            True,
            chat_admin=True,
        ),
        CommandInfo(
            "newarticle",
            N_("Write an article here: text, a forwarded post or a link"),
            "/newarticle @mychannel",
            True,
            chat_admin=True,
        ),
        CommandInfo("articles", N_("List the articles the bot can post"), "/articles", True),
        CommandInfo(
            "article", N_("Show one article and where it was posted"), "/article a-1", True
        ),
        CommandInfo("delarticle", N_("Archive an article"), "/delarticle a-1", True),
        CommandInfo("reload", N_("Read the content files again"), "/reload", True),
        CommandInfo(
            "queue", N_("List the posts waiting for their time"), "/queue", True, chat_admin=True
        ),
        CommandInfo(
            "unqueue",
            N_("Cancel a post waiting for its time"),
            "/unqueue 3",
            True,
            chat_admin=True,
        ),
        CommandInfo(
            "summary",
            N_("Get the short summary of an article"),
            "/summary moscow-plant-reboot",
            False,
        ),
        CommandInfo("start", N_("Start the bot"), "/start", False),
    ),
    on_startup=on_startup,
    on_caught_up=scheduled.on_caught_up,
)
