"""The in-process state of the emulator: users, chats, messages, polls, files, updates, clock.

`World` is what the Bot API handlers read and write, and its public methods are the
control operations (the HTTP control API calls exactly these). Operations that simulate
people (send, press, vote, ...) live in `actions`; World forwards to them.
"""

from __future__ import annotations

import heapq
import time
from typing import Any

from bot.sandbox import actions
from bot.sandbox.errors import ControlError, bad_request, forbidden
from bot.sandbox.limits import FaultRule, Faults, FloodLimits
from bot.sandbox.models import (
    BOT_STATUSES,
    CHAT_TYPES,
    JSON,
    CallRecord,
    ChatState,
    FileBlob,
    StoredMessage,
    User,
    WebhookConfig,
)
from bot.sandbox.polls import PollState
from bot.sandbox.updates import Entry, UpdateQueue

DEFAULT_TOKEN = "123456:SANDBOX-TOKEN"
DEFAULT_BOT_USERNAME = "pollbot_sandbox_bot"


class World:
    """Everything the sandbox knows; one instance per running Sandbox."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = "Pollbot Sandbox",
    ) -> None:
        head = token.split(":", 1)[0]
        self.token = token
        self.bot = User(
            int(head) if head.isdigit() else 123456, bot_name, bot_username, is_bot=True
        )
        self.updates = UpdateQueue(lambda poll_id: self.polls[poll_id].to_api())
        self.reset()

    def reset(self) -> None:
        """Forget everything (users, chats, polls, updates, calls, faults, clock, webhook)."""
        self.users: dict[int, User] = {}
        self.chats: dict[int, ChatState] = {}
        self.polls: dict[str, PollState] = {}
        self.files: dict[str, FileBlob] = {}
        self.call_log: list[CallRecord] = []
        self.faults = Faults()
        self.flood = FloodLimits()
        self.clock_offset = 0.0
        self.webhook = WebhookConfig()
        self.commands: dict[str, list[JSON]] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answer_log: list[JSON] = []
        self._closing: list[tuple[int, str]] = []
        self._serial = 0
        self.updates.clear()
        self.updates.next_id = 1
        self.updates.set_allowed([])
        self.updates.notify()

    def serial(self) -> int:
        """A fresh number for ids (polls, files, callback queries)."""
        self._serial += 1
        return self._serial

    # clock ---------------------------------------------------------------------------

    def now(self) -> float:
        """Sandbox time: real time plus the offset moved by `advance`."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> JSON:
        """Move the sandbox clock forward, closing polls whose time ran out."""
        self.clock_offset += seconds
        self.tick()
        return self.clock()

    def clock(self, advance: float | None = None) -> JSON:
        """Read the clock (after advancing it by `advance` seconds when given)."""
        if advance:
            return self.advance(advance)
        return {"now": self.now(), "offset": self.clock_offset}

    def schedule_close(self, poll: PollState) -> None:
        if poll.close_date is not None and not poll.is_closed:
            heapq.heappush(self._closing, (poll.close_date, poll.id))

    def tick(self) -> list[str]:
        """Close polls whose close_date has passed; returns their ids."""
        closed = []
        now = self.now()
        while self._closing and self._closing[0][0] <= now:
            _, poll_id = heapq.heappop(self._closing)
            poll = self.polls.get(poll_id)
            if poll is not None and not poll.is_closed:
                self.close_poll(poll)
                closed.append(poll_id)
        return closed

    def close_poll(self, poll: PollState) -> None:
        poll.is_closed = True
        self.updates.push_poll(poll.id)

    # chats and messages --------------------------------------------------------------

    def resolve_chat_id(self, chat_id: int | str) -> int | None:
        if isinstance(chat_id, int):
            return chat_id
        if chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == wanted:
                    return chat.id
            return None
        try:
            return int(chat_id)
        except ValueError:
            return None

    def find_chat(self, chat_id: int | str) -> ChatState:
        """The chat a Bot API call names, or the error Telegram gives for it."""
        resolved = self.resolve_chat_id(chat_id)
        chat = self.chats.get(resolved) if resolved is not None else None
        if chat is None:
            if resolved in self.users:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        return chat

    def chat_for_bot(self, chat_id: int | str, post: bool = False) -> ChatState:
        """A chat the bot may act in (`post`: send or change messages there)."""
        chat = self.find_chat(chat_id)
        if chat.type == "private":
            if chat.bot_status == "kicked":
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.label}")
        elif chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.label}")
        if post and chat.is_channel and not self.bot_can_post(chat):
            raise bad_request("need administrator rights in the channel chat")
        return chat

    @staticmethod
    def bot_can_post(chat: ChatState) -> bool:
        return chat.bot_status in ("administrator", "creator") and chat.can_post_messages

    def add_message(self, chat: ChatState, **fields: Any) -> StoredMessage:
        message = StoredMessage(chat.next_message_id, chat.id, int(self.now()), **fields)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def message_json(self, message: StoredMessage, nested: bool = True) -> JSON:
        """The Bot API Message (a replied-to message is included one level deep)."""
        chat = self.chats[message.chat_id]
        poll = self.polls[message.poll_id].to_api(in_message=True) if message.poll_id else None
        reply = None
        if nested and message.reply_to is not None:
            target = chat.messages.get(message.reply_to)
            reply = self.message_json(target, nested=False) if target else None
        return message.to_api(chat.to_api(), poll, reply)

    # updates -------------------------------------------------------------------------

    def emit(self, kind: str, payload: JSON) -> Entry | None:
        """Queue an update of `kind` (dropped when allowed_updates excludes it)."""
        return self.updates.push(kind, payload)

    def raw(self, update: JSON) -> JSON:
        """Queue any JSON as an update (update_id assigned when missing)."""
        try:
            entry = self.updates.push_raw(update)
        except ValueError as err:
            raise ControlError(str(err)) from None
        return {"update_id": entry.update_id}

    def pending(self) -> int:
        """How many updates wait to be confirmed."""
        return len(self.updates)

    def pending_updates(self) -> list[JSON]:
        """The unconfirmed updates, oldest first (a poll snapshot not delivered yet: null)."""
        return [
            {"update_id": e.update_id, "kind": e.kind, "payload": e.payload}
            for e in self.updates.entries()
        ]

    # control: setup ------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        is_bot: bool = False,
    ) -> JSON:
        """Create (or update) a user."""
        user = User(user_id, first_name, username, language_code, last_name, is_bot)
        self.users[user_id] = user
        return user.to_api()

    def user(self, user_id: int) -> User:
        """A known user, or one created on the fly with a generated name."""
        found = self.users.get(user_id)
        if found is None:
            found = self.users[user_id] = User(user_id, f"User {user_id}", language_code="en")
        return found

    def add_chat(
        self,
        chat_id: int,
        type: str,
        title: str | None = None,
        username: str | None = None,
        bot_status: str = "administrator",
        can_post_messages: bool = True,
        admins: list[int] | None = None,
    ) -> JSON:
        """Create (or reconfigure, keeping its messages) a chat."""
        if type not in CHAT_TYPES:
            raise ControlError(f"chat type must be one of {', '.join(CHAT_TYPES)}")
        if bot_status not in BOT_STATUSES[1:]:
            raise ControlError("bot_status must be administrator, member, left or kicked")
        if (type == "private") != (chat_id > 0):
            raise ControlError("private chats have positive ids, other chats negative ones")
        for admin in admins or []:
            self.user(admin)
        chat = self.chats.get(chat_id) or ChatState(chat_id, type)
        chat.type, chat.title, chat.username = type, title, username
        chat.bot_status, chat.can_post_messages = bot_status, can_post_messages
        chat.admins = list(admins or [])
        if type == "private":
            user = self.user(chat_id)
            chat.first_name, chat.last_name = user.first_name, user.last_name
            chat.username, chat.started = user.username, True
            chat.bot_status = "member" if bot_status == "administrator" else bot_status
        self.chats[chat_id] = chat
        return chat.summary()

    def fault(
        self,
        kind: str,
        method: str = "*",
        chat_id: int | str | None = None,
        times: int = 1,
        retry_after: int = 5,
        delay: float | None = None,
    ) -> JSON:
        """Add a fault rule (see limits.FaultRule)."""
        self.faults.add(FaultRule(method, chat_id, str(kind), times, retry_after, delay))
        return {"faults": self.faults.to_json()}

    def clear_faults(self) -> JSON:
        self.faults.rules.clear()
        return {"faults": []}

    def flood_limits(
        self,
        global_per_sec: int | None = None,
        per_chat_per_sec: int | None = None,
        per_group_per_min: int | None = None,
    ) -> JSON:
        """Set flood limits (all None = off, the default)."""
        self.flood.configure(global_per_sec, per_chat_per_sec, per_group_per_min)
        return self.flood.to_json()

    def webhook_timeout(self, seconds: float, retry_delay: float | None = None) -> JSON:
        """How long a webhook delivery may take, and the pause before a retry."""
        self.webhook.timeout = seconds
        if retry_delay is not None:
            self.webhook.retry_delay = retry_delay
        return {"timeout": self.webhook.timeout, "retry_delay": self.webhook.retry_delay}

    # control: people ---------------------------------------------------------------

    def send(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None
    ) -> JSON:
        """A user writes `text` (see actions.send)."""
        return actions.send(self, user_id, text, chat_id, reply_to)

    def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> JSON:
        """A user taps an inline button (see actions.press)."""
        return actions.press(self, user_id, chat_id, message_id, data)

    def vote(
        self, user_id: int, poll_id: str, option_ids: list[int], voter_chat_id: int | None = None
    ) -> JSON:
        """A user (or a chat) sets its whole choice in a poll (see actions.vote)."""
        return actions.vote(self, user_id, poll_id, option_ids, voter_chat_id)

    def bulk_votes(self, votes: list[list[Any]]) -> JSON:
        """Many [user_id, poll_id, option_ids] votes at once (see actions.bulk_votes)."""
        return actions.bulk_votes(self, votes)

    def add_option(self, user_id: int, poll_id: str, text: str) -> JSON:
        """A user adds an answer option to a poll that allows it."""
        return actions.add_option(self, user_id, poll_id, text)

    def bot_added(
        self,
        chat_id: int,
        by_user_id: int,
        status: str = "administrator",
        can_post_messages: bool = True,
    ) -> JSON:
        """Someone adds or promotes the bot: a my_chat_member update."""
        return actions.bot_member_change(self, chat_id, by_user_id, status, can_post_messages)

    def bot_removed(self, chat_id: int, by_user_id: int, status: str = "kicked") -> JSON:
        """Someone removes the bot ("kicked"/"left"; a user blocking it in private)."""
        if status not in ("kicked", "left"):
            raise ControlError('status must be "kicked" or "left"')
        return actions.bot_member_change(self, chat_id, by_user_id, status, False)

    # control: reads ------------------------------------------------------------------

    def chat(self, chat_id: int | str) -> JSON:
        """A chat with its messages (Bot API JSON plus a "sandbox" key with the raw HTML)."""
        resolved = self.resolve_chat_id(chat_id)
        chat = self.chats.get(resolved) if resolved is not None else None
        if chat is None:
            raise ControlError(f"unknown chat {chat_id}", 404)
        messages = [
            {**self.message_json(m), "sandbox": m.sandbox_info()} for m in chat.messages.values()
        ]
        return {"chat": chat.summary(), "messages": messages}

    def poll(self, poll_id: str) -> JSON:
        """A poll's Bot API JSON plus votes per voter and counts under "sandbox"."""
        self.tick()
        if poll_id not in self.polls:
            raise ControlError(f"unknown poll {poll_id}", 404)
        return self.polls[poll_id].sandbox_info()

    def poll_list(self) -> list[JSON]:
        self.tick()
        return [poll.sandbox_info() for poll in self.polls.values()]

    def calls(self, method: str | None = None) -> list[JSON]:
        """The Bot API call log, oldest first (only `method` when given)."""
        return [c.to_json() for c in self.call_log if method is None or c.method == method]

    def callback_answers(self) -> list[JSON]:
        return list(self.callback_answer_log)

    def my_commands(self) -> JSON:
        """Commands per "scope|language_code" key, as set by setMyCommands."""
        return dict(self.commands)

    def file(self, file_id: str) -> FileBlob:
        if file_id not in self.files:
            raise ControlError(f"unknown file {file_id}", 404)
        return self.files[file_id]

    def state(self) -> JSON:
        """Everything, for debugging and assertions."""
        return {
            "bot": self.bot.to_api(),
            "clock": self.clock(),
            "users": [user.to_api() for user in self.users.values()],
            "chats": [chat.summary() for chat in self.chats.values()],
            "polls": self.poll_list(),
            "pending": self.pending(),
            "allowed_updates": self.updates.allowed,
            "webhook": self.webhook.to_api(self.pending(), self.updates.allowed),
            "faults": self.faults.to_json(),
            "flood": self.flood.to_json(),
            "commands": self.my_commands(),
        }
