"""Bot API method handlers other than messaging, and the registry of every emulated method.

A handler takes the World and the decoded parameters and returns the `result`, or raises
ApiError. `getUpdates` returns an `Encoded` result so a batch is serialized only once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.actions import admin_member, bot_member
from bot.sandbox.errors import ApiError, bad_request
from bot.sandbox.messaging import HANDLERS as MESSAGING_HANDLERS
from bot.sandbox.models import JSON
from bot.sandbox.validate import bot_commands
from bot.sandbox.world import World

Handler = Callable[[World, dict[str, Any]], Awaitable[Any]]
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
LONG_POLL_MAX = 50  # seconds, as in telegram-bot-api
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(slots=True)
class Encoded:
    """A result already serialized to JSON bytes (`value` is kept for the call log)."""

    body: bytes
    value: Any


async def get_me(world: World, params: dict[str, Any]) -> JSON:
    return {
        **world.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(world: World, params: dict[str, Any]) -> Encoded:
    if world.webhook.url:
        raise ApiError(409, WEBHOOK_CONFLICT)
    world.updates.set_allowed(params.get("allowed_updates"))
    limit = params.get("limit")
    limit = 100 if limit is None else min(max(limit, 1), 100)
    timeout = min(max(params.get("timeout") or 0, 0), LONG_POLL_MAX)
    entries = await world.updates.get_updates(params.get("offset"), limit, timeout)
    body = b"[" + b",".join(entry.encoded or b"" for entry in entries) + b"]"
    return Encoded(body, [entry.update for entry in entries])


async def set_webhook(world: World, params: dict[str, Any]) -> bool:
    url = params["url"] or ""
    if not url:
        return await delete_webhook(world, params)
    if not re.match(r"https?://[^\s/]+", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    connections = params.get("max_connections", 40)
    if not 1 <= connections <= 100:
        raise bad_request("max_connections must be 1-100")
    if params.get("drop_pending_updates"):
        world.updates.clear()
    world.updates.set_allowed(params.get("allowed_updates"))
    hook = world.webhook
    if hook.url != url:
        hook.last_error_date = hook.last_error_message = None
    hook.url, hook.secret_token, hook.max_connections = url, secret, connections
    hook.ip_address = params.get("ip_address")
    world.updates.notify()
    return True


async def delete_webhook(world: World, params: dict[str, Any]) -> bool:
    if params.get("drop_pending_updates"):
        world.updates.clear()
    world.webhook.url, world.webhook.secret_token = "", None
    world.webhook.last_error_date = world.webhook.last_error_message = None
    world.updates.notify()
    return True


async def get_webhook_info(world: World, params: dict[str, Any]) -> JSON:
    return world.webhook.to_api(world.pending(), world.updates.allowed)


async def get_chat(world: World, params: dict[str, Any]) -> JSON:
    chat = world.chat_for_bot(params["chat_id"])
    gifts = {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": gifts,
    }


async def get_chat_member(world: World, params: dict[str, Any]) -> JSON:
    chat = world.chat_for_bot(params["chat_id"])
    user_id = params["user_id"]
    if user_id == world.bot.id:
        return bot_member(world, chat)
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if user_id in chat.admins:
        if user_id == chat.admins[0]:
            return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
        return admin_member(user.to_api(), chat)
    return {"status": "member", "user": user.to_api()}


async def get_chat_administrators(world: World, params: dict[str, Any]) -> list[JSON]:
    chat = world.chat_for_bot(params["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    bot_is_admin = chat.bot_status in ("administrator", "creator")
    if chat.is_channel and not bot_is_admin:
        raise bad_request("member list is inaccessible")
    members = []
    for user_id in chat.admins:
        if world.users[user_id].is_bot and not params.get("return_bots"):
            continue
        members.append(await get_chat_member(world, {**params, "user_id": user_id}))
    if bot_is_admin:
        members.append(bot_member(world, chat))
    return members


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    parts = [str(scope["type"])] + [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts) + "|" + (params.get("language_code") or "")


async def set_my_commands(world: World, params: dict[str, Any]) -> bool:
    world.commands[_commands_key(params)] = bot_commands(params["commands"])
    return True


async def get_my_commands(world: World, params: dict[str, Any]) -> list[JSON]:
    return list(world.commands.get(_commands_key(params), []))


async def delete_my_commands(world: World, params: dict[str, Any]) -> bool:
    world.commands.pop(_commands_key(params), None)
    return True


async def answer_true(world: World, params: dict[str, Any]) -> bool:
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "close": answer_true,
    "logOut": answer_true,
    **MESSAGING_HANDLERS,
}
