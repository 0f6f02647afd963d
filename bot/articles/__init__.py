"""Articles: the content library, posting an article with its poll, and what readers get.

``content`` loads and validates the TOML articles; ``view`` renders a post and a summary;
``summary`` splits text and writes the automatic summary; ``posting`` sends an article to
chats (``/post``, ``/articles``); ``readers`` answers ``/start`` and ``/summary``.
"""

from __future__ import annotations

from bot.articles import posting, readers
from bot.feature import CommandInfo, Feature, command
from bot.texts import N_

FEATURE = Feature(
    handlers=(
        command("start", readers.start),
        command("summary", readers.send_summary),
        command("post", posting.post_article),
        command("articles", posting.list_articles),
    ),
    commands=(
        CommandInfo(
            "post",
            N_("Post an article and its poll to channels"),
            "/post moscow-plant-reboot @mychannel",
            True,
            chat_admin=True,
        ),
        CommandInfo("articles", N_("List the articles the bot can post"), "/articles", True),
        CommandInfo(
            "summary",
            N_("Get the short summary of an article"),
            "/summary moscow-plant-reboot",
            False,
        ),
        CommandInfo("start", N_("Start the bot"), "/start", False),
    ),
    on_startup=posting.load_library,
)
