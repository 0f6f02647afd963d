"""State records of the emulator (users, chats, messages, files, calls) and their Bot API JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
CHAT_TYPES = ("private", "group", "supergroup", "channel")
BOT_STATUSES = ("creator", "administrator", "member", "left", "kicked")
ANONYMOUS_VOTER = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}
"""The fake user Telegram puts in PollAnswer.user when a chat votes (voter_chat)."""


@dataclass(slots=True)
class User:
    """A Telegram user (or bot) known to the sandbox."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    last_name: str | None = None
    is_bot: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class FileBlob:
    """A photo or document the bot sent, with its bytes when they were uploaded."""

    file_id: str
    file_unique_id: str
    kind: str
    size: int
    sha256: str
    data: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None
    url: str | None = None
    width: int = 1280
    height: int = 720

    def to_api(self) -> JSON:
        """PhotoSize for a photo, Document otherwise."""
        data: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.kind == "photo":
            data.update(width=self.width, height=self.height)
        else:
            if self.file_name:
                data["file_name"] = self.file_name
            if self.mime_type:
                data["mime_type"] = self.mime_type
        if self.size:
            data["file_size"] = self.size
        return data

    def info(self) -> JSON:
        """Sandbox view of the file (no bytes)."""
        return {
            "file_id": self.file_id,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "url": self.url,
        }


@dataclass(slots=True)
class StoredMessage:
    """One message in a chat, as the sandbox keeps it (edits applied in place)."""

    message_id: int
    chat_id: int
    date: int
    from_user: User | None
    by_bot: bool
    sender_chat: bool = False
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    poll_id: str | None = None
    photo: FileBlob | None = None
    document: FileBlob | None = None
    edit_date: int | None = None
    reply_to: int | None = None
    service: JSON = field(default_factory=dict)

    def to_api(self, chat: JSON, poll: JSON | None, reply_to: JSON | None = None) -> JSON:
        """The Bot API Message; `chat`, `poll` and `reply_to` are already serialized."""
        data: JSON = {"message_id": self.message_id}
        if self.from_user is not None:
            data["from"] = self.from_user.to_api()
        if self.sender_chat:
            data["sender_chat"] = chat
        data["date"] = self.date
        data["chat"] = chat
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = [self.photo.to_api()]
        if self.document is not None:
            data["document"] = self.document.to_api()
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if poll is not None:
            data["poll"] = poll
        data.update(self.service)
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data

    def sandbox_info(self) -> JSON:
        """Sandbox-only facts about the message, never part of a Bot API answer."""
        return {
            "html": self.source if self.parse_mode else None,
            "source": self.source,
            "parse_mode": self.parse_mode,
            "from_bot": self.by_bot,
            "poll_id": self.poll_id,
        }


@dataclass(slots=True)
class ChatState:
    """A chat and the bot's place in it."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_status: str = "administrator"
    can_post_messages: bool = True
    admins: list[int] = field(default_factory=list)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    started: bool = False

    @property
    def label(self) -> str:
        """How Telegram names the chat kind in errors ("channel chat", ...)."""
        return f"{self.type} chat"

    @property
    def is_channel(self) -> bool:
        return self.type == "channel"

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or str(self.id)
            if self.last_name:
                data["last_name"] = self.last_name
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        return data

    def summary(self) -> JSON:
        """Sandbox view of the chat (no messages)."""
        return {
            **self.to_api(),
            "bot_status": self.bot_status,
            "can_post_messages": self.can_post_messages,
            "admins": list(self.admins),
            "message_count": len(self.messages),
            "started": self.started,
        }


@dataclass(slots=True)
class CallRecord:
    """One Bot API call as the sandbox answered it."""

    method: str
    params: JSON
    ok: bool
    result: Any
    error_code: int | None
    description: str | None
    time: float

    def to_json(self) -> JSON:
        return {
            "method": self.method,
            "params": self.params,
            "ok": self.ok,
            "result": self.result,
            "error_code": self.error_code,
            "description": self.description,
            "time": self.time,
        }


@dataclass(slots=True)
class WebhookConfig:
    """The webhook as set by setWebhook, plus delivery state and sandbox knobs."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    timeout: float = 10.0
    retry_delay: float = 1.0

    def to_api(self, pending: int, allowed: list[str] | None) -> JSON:
        """The WebhookInfo object."""
        data: JSON = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.url:
            data["max_connections"] = self.max_connections
            if self.ip_address:
                data["ip_address"] = self.ip_address
        if self.last_error_date is not None:
            data["last_error_date"] = self.last_error_date
            data["last_error_message"] = self.last_error_message or ""
        if allowed is not None:
            data["allowed_updates"] = allowed
        return data
