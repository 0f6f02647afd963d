"""Bot API methods that post or change messages: send*, edit*, deleteMessage, stopPoll,
answerCallbackQuery."""

from __future__ import annotations

import hashlib
from typing import Any

from bot.sandbox import validate
from bot.sandbox.errors import bad_request
from bot.sandbox.models import JSON, ChatState, FileBlob, StoredMessage, Upload
from bot.sandbox.polls import build_poll
from bot.sandbox.world import World

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
DELETE_WINDOW = 48 * 3600
CALLBACK_TTL = 15 * 60


def _reply_to(chat: ChatState, params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    target, lenient = params.get("reply_to_message_id"), params.get("allow_sending_without_reply")
    if isinstance(reply, dict):
        target, lenient = reply.get("message_id"), reply.get("allow_sending_without_reply")
    if target is None:
        return None
    if target in chat.messages:
        return int(target)
    if lenient:
        return None
    raise bad_request("message to be replied not found")


_Extras = tuple[JSON | None, int | None]


def _extras(chat: ChatState, params: dict[str, Any]) -> _Extras:
    """A send's keyboard and reply target, checked before the send changes anything."""
    return validate.inline_markup(params.get("reply_markup")), _reply_to(chat, params)


def _post(world: World, chat: ChatState, extras: _Extras, **fields: Any) -> JSON:
    markup, reply_to = extras
    message = world.add_message(
        chat,
        from_user=None if chat.is_channel else world.bot,
        by_bot=True,
        sender_chat=chat.is_channel,
        reply_markup=markup,
        reply_to=reply_to,
        **fields,
    )
    return world.message_json(message)


async def send_message(world: World, params: dict[str, Any]) -> JSON:
    chat = world.chat_for_bot(params["chat_id"], post=True)
    text, entities = validate.message_text(params)
    return _post(
        world,
        chat,
        _extras(chat, params),
        text=text,
        entities=entities,
        source=params["text"],
        parse_mode=params.get("parse_mode"),
    )


async def send_photo(world: World, params: dict[str, Any]) -> JSON:
    return _send_file(world, params, "photo")


async def send_document(world: World, params: dict[str, Any]) -> JSON:
    return _send_file(world, params, "document")


def store_file(world: World, kind: str, source: Upload | str) -> FileBlob:
    """A file the bot sends: uploaded bytes, a known file_id, or a URL (kept without bytes)."""
    if isinstance(source, str):
        if source in world.files:
            return world.files[source]
        if not source.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        data, name, mime, url = b"", source.rsplit("/", 1)[-1], None, source
    else:
        data, name, mime, url = source.data, source.filename, source.content_type, None
    digest = hashlib.sha256(data or (url or "").encode()).hexdigest()
    blob = FileBlob(
        file_id=f"sandbox-{kind}-{world.serial()}",
        file_unique_id=digest[:16],
        kind=kind,
        size=len(data),
        sha256=digest,
        data=data if url is None else None,
        file_name=name,
        mime_type=mime,
        url=url,
    )
    if kind == "photo" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        blob.width, blob.height = (int.from_bytes(data[16:20]), int.from_bytes(data[20:24]))
    world.files[blob.file_id] = blob
    return blob


def _send_file(world: World, params: dict[str, Any], kind: str) -> JSON:
    chat = world.chat_for_bot(params["chat_id"], post=True)
    source = params[kind]
    if not isinstance(source, Upload | str) or source == "":
        raise bad_request(f"there is no {kind} in the request")
    caption, entities = validate.caption(params)
    extras = _extras(chat, params)
    blob = store_file(world, kind, source)
    return _post(
        world,
        chat,
        extras,
        caption=caption,
        caption_entities=entities,
        source=params.get("caption"),
        parse_mode=params.get("parse_mode"),
        **{kind: blob},
    )


async def send_poll(world: World, params: dict[str, Any]) -> JSON:
    chat = world.chat_for_bot(params["chat_id"], post=True)
    poll = build_poll(
        str(5_000_000_000_000_000_000 + world.serial()), params, chat.type, world.now()
    )
    extras = _extras(chat, params)
    world.polls[poll.id] = poll
    result = _post(world, chat, extras, poll_id=poll.id)
    poll.chat_id, poll.message_id = chat.id, result["message_id"]
    world.schedule_close(poll)
    return result


def _bot_message(world: World, params: dict[str, Any], action: str) -> StoredMessage:
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID: the sandbox has no inline messages")
    if params.get("chat_id") in (None, ""):
        raise bad_request("chat_id is empty")
    chat = world.chat_for_bot(params["chat_id"], post=action != "delete")
    message = chat.messages.get(params.get("message_id") or 0)
    if message is None:
        raise bad_request(f"message to {action} not found")
    return message


async def edit_message_text(world: World, params: dict[str, Any]) -> JSON:
    message = _bot_message(world, params, "edit")
    if not message.by_bot:
        raise bad_request("message can't be edited")
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = validate.message_text(params)
    markup = validate.inline_markup(params.get("reply_markup"))
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = text, entities, markup
    message.source, message.parse_mode = params["text"], params.get("parse_mode")
    message.edit_date = int(world.now())
    return world.message_json(message)


async def edit_message_reply_markup(world: World, params: dict[str, Any]) -> JSON:
    message = _bot_message(world, params, "edit")
    if not message.by_bot:
        raise bad_request("message can't be edited")
    markup = validate.inline_markup(params.get("reply_markup"))
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    message.edit_date = int(world.now())
    return world.message_json(message)


async def delete_message(world: World, params: dict[str, Any]) -> bool:
    message = _bot_message(world, params, "delete")
    chat = world.chats[message.chat_id]
    is_admin = chat.bot_status in ("administrator", "creator")
    if chat.is_channel and not is_admin:
        raise bad_request("message can't be deleted")
    if not message.by_bot and chat.type != "private" and not is_admin:
        raise bad_request("message can't be deleted")
    if world.now() - message.date > DELETE_WINDOW and chat.type != "private":
        raise bad_request("message can't be deleted for everyone")
    del chat.messages[message.message_id]
    if message.poll_id is not None:
        world.polls[message.poll_id].message_deleted = True
    return True


async def stop_poll(world: World, params: dict[str, Any]) -> JSON:
    chat = world.chat_for_bot(params["chat_id"], post=True)
    message = chat.messages.get(params["message_id"])
    if message is None or message.poll_id is None:
        raise bad_request("message with poll to stop not found")
    poll = world.polls[message.poll_id]
    if poll.is_closed:
        raise bad_request("poll has already been closed")
    if "reply_markup" in params:
        message.reply_markup = validate.inline_markup(params["reply_markup"])
    world.close_poll(poll)
    return poll.to_api()


async def send_chat_action(world: World, params: dict[str, Any]) -> bool:
    world.chat_for_bot(params["chat_id"], post=True)
    return True


async def answer_callback_query(world: World, params: dict[str, Any]) -> bool:
    query = world.callback_queries.get(params["callback_query_id"])
    if query is None or query["answered"] or world.now() - query["date"] > CALLBACK_TTL:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = validate.callback_answer_text(params.get("text"))
    query["answered"] = True
    world.callback_answer_log.append(
        {
            "callback_query_id": params["callback_query_id"],
            "user_id": query["user_id"],
            "data": query["data"],
            "text": text,
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
            "time": world.now(),
        }
    )
    return True


HANDLERS = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendPoll": send_poll,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "stopPoll": stop_poll,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
