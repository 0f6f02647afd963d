"""Admin: who may do what, the chats the bot is in, menus and /help, approvals, the audit.

``auth`` holds the permission rules (bot admins, each chat's administrators, campaigns a
user manages); ``chats`` turns "@channel" into a known chat and tracks membership;
``commands`` holds /help, /channels, /approve, /forget, /language and /audit.
"""

from __future__ import annotations

from telegram.ext import ChatMemberHandler

from bot.admin import commands
from bot.feature import CommandInfo, Feature, command
from bot.texts import N_

FEATURE = Feature(
    handlers=(
        ChatMemberHandler(commands.track_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        command("help", commands.show_help),
        command("channels", commands.list_channels),
        command("approve", commands.approve_chats),
        command("forget", commands.forget_chats),
        command("language", commands.set_language),
        command("timezone", commands.set_timezone),
        command("audit", commands.show_audit),
    ),
    commands=(
        CommandInfo("help", N_("What I can do, with examples"), "/help", False),
        CommandInfo("channels", N_("The chats I know and their state"), "/channels", True),
        CommandInfo(
            "approve", N_("Make a chat I was added to a target"), "/approve @mychannel", True
        ),
        CommandInfo("forget", N_("Stop posting to a chat"), "/forget @mychannel", True),
        CommandInfo(
            "language",
            N_("Set the language of a chat's posts and polls"),
            "/language @mychannel ru",
            True,
        ),
        CommandInfo(
            "timezone",
            N_("Your time zone, for the times you type and read"),
            "/timezone Europe/Moscow",
            True,
            chat_admin=True,
        ),
        CommandInfo("audit", N_("The latest admin actions"), "/audit", True),
    ),
    on_startup=commands.on_startup,
)
