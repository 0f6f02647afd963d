"""What simulated people do: write to the bot, tap buttons, vote, add options, add/remove the bot.

Each function changes the World and queues the updates Telegram would send the bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import ControlError
from bot.sandbox.markup import command_entities
from bot.sandbox.models import ANONYMOUS_VOTER, BOT_STATUSES, JSON, ChatState, User
from bot.sandbox.polls import MAX_OPTION_LENGTH, MAX_OPTIONS, OptionState

if TYPE_CHECKING:
    from bot.sandbox.polls import PollState
    from bot.sandbox.updates import Entry
    from bot.sandbox.world import World

CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages")
GROUP_ADMIN_RIGHTS = ("can_pin_messages",)


def _update_json(entry: Entry | None) -> JSON | None:
    if entry is None:
        return None
    if entry.update is not None:
        return entry.update
    return {"update_id": entry.update_id, entry.kind: entry.payload}


def _private_chat(world: World, user: User) -> ChatState:
    if user.id not in world.chats:
        world.add_chat(user.id, "private")
    chat = world.chats[user.id]
    chat.started = True
    if chat.bot_status == "kicked":  # writing again unblocks the bot
        bot_member_change(world, user.id, user.id, "member", False)
    return chat


def send(world: World, user_id: int, text: str, chat_id: int | None, reply_to: int | None) -> JSON:
    """A user writes `text`: a `message` update (a `channel_post` in a channel).

    With chat_id None the user writes to the bot in private (creating that chat, which is
    what lets the bot write back). A leading /command gets its bot_command entity.
    """
    if user_id not in world.users:
        raise ControlError(f"unknown user {user_id}; add_user first")
    user = world.users[user_id]
    if chat_id is None:
        chat = _private_chat(world, user)
    elif chat_id not in world.chats:
        raise ControlError(f"unknown chat {chat_id}")
    else:
        chat = world.chats[chat_id]
    if not text:
        raise ControlError("text must not be empty")
    if reply_to is not None and reply_to not in chat.messages:
        raise ControlError(f"no message {reply_to} in chat {chat.id}")
    channel = chat.is_channel
    message = world.add_message(
        chat,
        from_user=None if channel else user,
        by_bot=False,
        sender_chat=channel,
        text=text,
        entities=command_entities(text),
        reply_to=reply_to,
    )
    payload = world.message_json(message)
    entry = None
    if chat.bot_status in ("administrator", "member", "creator"):
        entry = world.emit("channel_post" if channel else "message", payload)
    return {"update": _update_json(entry), "message": payload}


def _has_button(markup: JSON | None, data: str) -> bool:
    rows = (markup or {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == data for row in rows for button in row)


def press(world: World, user_id: int, chat_id: int, message_id: int, data: str) -> JSON:
    """A user taps the inline button carrying `data`: a `callback_query` update."""
    if user_id not in world.users:
        raise ControlError(f"unknown user {user_id}; add_user first")
    chat = world.chats.get(chat_id)
    message = chat.messages.get(message_id) if chat else None
    if chat is None or message is None:
        raise ControlError(f"no message {message_id} in chat {chat_id}")
    if not _has_button(message.reply_markup, data):
        raise ControlError(f"message {message_id} has no button with callback_data {data!r}")
    query_id = str(4_000_000_000_000 + world.serial())
    query = {
        "id": query_id,
        "from": world.users[user_id].to_api(),
        "message": world.message_json(message),
        "chat_instance": str(-7 * chat_id),
        "data": data,
    }
    world.callback_queries[query_id] = {
        "date": world.now(),
        "answered": False,
        "user_id": user_id,
        "data": data,
    }
    entry = world.emit("callback_query", query)
    return {"update": _update_json(entry), "callback_query_id": query_id}


def _poll(world: World, poll_id: str) -> PollState:
    world.tick()
    poll = world.polls.get(str(poll_id))
    if poll is None:
        raise ControlError(f"unknown poll {poll_id}", 404)
    return poll


def _apply_vote(
    world: World, user_id: int, poll: PollState, option_ids: list[int], voter_chat_id: int | None
) -> bool:
    if not isinstance(option_ids, list):
        raise ControlError("option_ids must be a list of option indices")
    voter_chat = None
    if voter_chat_id is not None:
        if voter_chat_id not in world.chats:
            raise ControlError(f"unknown chat {voter_chat_id}")
        voter_chat = world.chats[voter_chat_id].to_api()
    key = voter_chat_id if voter_chat_id is not None else user_id
    if not poll.set_vote(key, option_ids):
        return False
    if not poll.is_anonymous:
        choice = list(poll.votes.get(key, ()))
        answer: JSON = {"poll_id": poll.id}
        if voter_chat is not None:
            answer["voter_chat"] = voter_chat
            answer["user"] = dict(ANONYMOUS_VOTER)
        else:
            answer["user"] = world.user(user_id).to_api()
        answer["option_ids"] = choice
        answer["option_persistent_ids"] = poll.persistent_ids(choice)
        world.emit("poll_answer", answer)
    world.updates.push_poll(poll.id)
    return True


def vote(
    world: World, user_id: int, poll_id: str, option_ids: list[int], voter_chat_id: int | None
) -> JSON:
    """Set a voter's whole choice (empty list = retraction).

    Non-anonymous polls queue a `poll_answer` (user, option_ids, option_persistent_ids;
    with voter_chat_id the PollAnswer carries voter_chat and Telegram's fake user) and
    every poll queues its new `poll` state. Unknown users are created on the fly.
    """
    poll = _poll(world, poll_id)
    changed = _apply_vote(world, user_id, poll, option_ids, voter_chat_id)
    return {"changed": changed, "poll": poll.to_api()}


def bulk_votes(world: World, votes: list[list[Any]]) -> JSON:
    """Apply [user_id, poll_id, option_ids] votes in order; refusals are listed, not fatal."""
    applied = unchanged = 0
    refused: list[JSON] = []
    world.tick()
    for index, item in enumerate(votes):
        try:
            user_id, poll_id, option_ids = item
            poll = world.polls.get(str(poll_id))
            if poll is None:
                raise ControlError(f"unknown poll {poll_id}")
            if _apply_vote(world, int(user_id), poll, option_ids, None):
                applied += 1
            else:
                unchanged += 1
        except (ControlError, ValueError, TypeError) as err:
            reason = err.description if isinstance(err, ControlError) else str(err)
            refused.append({"index": index, "reason": reason})
    return {"applied": applied, "unchanged": unchanged, "refused": refused}


def add_option(world: World, user_id: int, poll_id: str, text: str) -> JSON:
    """Add an option (new persistent_id): a `poll` update and a poll_option_added message."""
    poll = _poll(world, poll_id)
    if not poll.allow_adding_options:
        raise ControlError(f"poll {poll.id} does not allow adding options")
    if poll.is_closed:
        raise ControlError(f"poll {poll.id} is closed")
    if len(poll.options) >= MAX_OPTIONS:
        raise ControlError(f"a poll has at most {MAX_OPTIONS} options")
    if not 1 <= len(text.strip()) <= MAX_OPTION_LENGTH:
        raise ControlError(f"option text must be 1-{MAX_OPTION_LENGTH} characters")
    user = world.user(user_id)
    option = OptionState(
        str(len(poll.options)), text.strip(), added_by=user, addition_date=int(world.now())
    )
    poll.options.append(option)
    world.updates.push_poll(poll.id)
    chat = world.chats[poll.chat_id]
    poll_message = chat.messages.get(poll.message_id)
    service: JSON = {"option_persistent_id": option.persistent_id, "option_text": option.text}
    if poll_message is not None:
        service = {"poll_message": world.message_json(poll_message, nested=False), **service}
    message = world.add_message(
        chat, from_user=user, by_bot=False, service={"poll_option_added": service}
    )
    entry = world.emit("message", world.message_json(message))
    return {"option": option.to_api(), "update": _update_json(entry)}


def bot_member(world: World, chat: ChatState, status: str | None = None) -> JSON:
    """The bot's ChatMember object in `chat` (its current status unless `status` is given)."""
    status = status or chat.bot_status
    user = world.bot.to_api()
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status != "administrator":
        return {"status": status, "user": user}
    return admin_member(user, chat, can_post=chat.can_post_messages)


def admin_member(user: JSON, chat: ChatState, can_post: bool = True) -> JSON:
    """A ChatMemberAdministrator with the usual rights for the chat's type."""
    member: JSON = {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": not chat.is_channel,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    if chat.is_channel:
        member.update({right: can_post for right in CHANNEL_ADMIN_RIGHTS})
    else:
        member.update({right: True for right in GROUP_ADMIN_RIGHTS})
    return member


def bot_member_change(
    world: World, chat_id: int, by_user_id: int, status: str, can_post_messages: bool
) -> JSON:
    """Change the bot's status in a chat and queue the `my_chat_member` update."""
    if status not in BOT_STATUSES[1:]:
        raise ControlError("status must be administrator, member, left or kicked")
    chat = world.chats.get(chat_id)
    if chat is None:
        raise ControlError(f"unknown chat {chat_id}; add_chat first (bot_status='left')")
    if chat.type == "private" and status == "administrator":
        raise ControlError("a private chat has no administrators")
    old = bot_member(world, chat)
    chat.bot_status = status
    chat.can_post_messages = can_post_messages if status == "administrator" else False
    payload = {
        "chat": chat.to_api(),
        "from": world.user(by_user_id).to_api(),
        "date": int(world.now()),
        "old_chat_member": old,
        "new_chat_member": bot_member(world, chat),
    }
    entry = world.emit("my_chat_member", payload)
    return {"update": _update_json(entry), "chat": chat.summary()}
