"""Polls: campaigns sent to several chats, the votes they get, closing, results, export.

``campaigns`` sends a poll to each target chat as one campaign (``/poll``, ``/newpoll``);
``preview`` shows what a command will publish (a draft) before it goes; ``votes`` stores
``poll`` and ``poll_answer`` updates; ``closing`` ends polls (``/close`` and the expiry
job); ``undo`` deletes a campaign's messages (``/delete``); ``results`` reads the counts,
``scope`` decides what a chat may see of them, ``reading`` answers ``/polls`` and
``/results``; ``export`` writes the CSV (``/export``); ``spec`` and ``newpoll`` are what a
poll must satisfy. A poll's later life: ``final`` (the final result post when it closes),
``reminders`` (before it closes) and ``repost`` (``/repost``: the same poll again).
"""

from __future__ import annotations

from telegram.ext import PollAnswerHandler, PollHandler

from bot.admin.auth import private_only
from bot.feature import CommandInfo, Feature, command
from bot.polls import campaigns, closing, export, reading, repost, undo, votes
from bot.texts import N_

FEATURE = Feature(
    handlers=(
        PollHandler(votes.record_poll),
        PollAnswerHandler(votes.record_answer),
        command("poll", campaigns.post_article_poll),
        command("newpoll", campaigns.new_poll),
        command("repost", repost.repost_poll),
        command("close", closing.close_poll),
        command("delete", undo.delete_campaign),
        command("polls", reading.list_polls),
        command("results", private_only(reading.show_results)),  # never in a group
        command("export", export.send_export),
    ),
    commands=(
        CommandInfo(
            "poll",
            N_("Send an article's poll to channels"),
            "/poll moscow-plant-reboot @mychannel",
            True,
            chat_admin=True,
        ),
        CommandInfo(
            "newpoll",
            N_("Create a poll: question | options | settings"),
            "/newpoll Best car? | Lada | Moskvich | multi 2d",
            True,
            chat_admin=True,
        ),
        CommandInfo(
            "polls", N_("Open and recently closed polls"), "/polls", True, chat_admin=True
        ),
        CommandInfo(
            "results", N_("Results of a poll, per chat and combined"), "/results 3", False
        ),
        CommandInfo(
            "repost",
            N_("Post a poll again as a new poll (same question and options)"),
            "/repost 3 @mygroup 2d",
            True,
            chat_admin=True,
        ),
        CommandInfo("close", N_("Close a poll in every chat"), "/close 3", True, chat_admin=True),
        CommandInfo(
            "delete",
            N_("Delete a poll and its post from every chat (results are kept)"),
            "/delete 3",
            True,
            chat_admin=True,
        ),
        CommandInfo(
            "export", N_("Download a poll's results as CSV"), "/export 3", True, chat_admin=True
        ),
    ),
    on_startup=closing.on_startup,
    on_caught_up=closing.on_caught_up,
)
