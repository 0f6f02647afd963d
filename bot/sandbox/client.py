"""Async client of the control API (what tests and `pollbot demo` use over HTTP)."""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any

import aiohttp

from bot.sandbox.models import JSON


class SandboxError(Exception):
    """The control API refused an action (status and description as sent)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


class SandboxClient:
    """Calls /sandbox/<action> on a running sandbox; every method returns the `result`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def call(self, action: str, **kwargs: Any) -> Any:
        """Run any control action with keyword arguments (None values are left out)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        body = {key: value for key, value in kwargs.items() if value is not None}
        async with self._session.post(f"{self.url}/sandbox/{action}", json=body) as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise SandboxError(response.status, str(answer.get("description")))
        return answer["result"]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # setup
    async def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        is_bot: bool = False,
    ) -> JSON:
        return dict(
            await self.call(
                "add_user",
                user_id=user_id,
                first_name=first_name,
                language_code=language_code,
                username=username,
                last_name=last_name,
                is_bot=is_bot,
            )
        )

    async def add_chat(
        self,
        chat_id: int,
        type: str,
        title: str | None = None,
        username: str | None = None,
        bot_status: str = "administrator",
        can_post_messages: bool = True,
        admins: list[int] | None = None,
    ) -> JSON:
        return dict(
            await self.call(
                "add_chat",
                chat_id=chat_id,
                type=type,
                title=title,
                username=username,
                bot_status=bot_status,
                can_post_messages=can_post_messages,
                admins=admins,
            )
        )

    # people
    async def send(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None
    ) -> JSON:
        return dict(
            await self.call("send", user_id=user_id, text=text, chat_id=chat_id, reply_to=reply_to)
        )

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> JSON:
        return dict(
            await self.call(
                "press", user_id=user_id, chat_id=chat_id, message_id=message_id, data=data
            )
        )

    async def vote(
        self, user_id: int, poll_id: str, option_ids: list[int], voter_chat_id: int | None = None
    ) -> JSON:
        return dict(
            await self.call(
                "vote",
                user_id=user_id,
                poll_id=poll_id,
                option_ids=option_ids,
                voter_chat_id=voter_chat_id,
            )
        )

    async def bulk_votes(self, votes: list[list[Any]]) -> JSON:
        return dict(await self.call("bulk_votes", votes=votes))

    async def add_option(self, user_id: int, poll_id: str, text: str) -> JSON:
        return dict(await self.call("add_option", user_id=user_id, poll_id=poll_id, text=text))

    async def bot_added(
        self,
        chat_id: int,
        by_user_id: int,
        status: str = "administrator",
        can_post_messages: bool = True,
    ) -> JSON:
        return dict(
            await self.call(
                "bot_added",
                chat_id=chat_id,
                by_user_id=by_user_id,
                status=status,
                can_post_messages=can_post_messages,
            )
        )

    async def bot_removed(self, chat_id: int, by_user_id: int, status: str = "kicked") -> JSON:
        return dict(
            await self.call("bot_removed", chat_id=chat_id, by_user_id=by_user_id, status=status)
        )

    async def raw(self, update: JSON) -> JSON:
        return dict(await self.call("raw", update=update))

    # knobs
    async def fault(
        self,
        kind: str,
        method: str = "*",
        chat_id: int | str | None = None,
        times: int = 1,
        retry_after: int = 5,
        delay: float | None = None,
    ) -> JSON:
        return dict(
            await self.call(
                "fault",
                kind=kind,
                method=method,
                chat_id=chat_id,
                times=times,
                retry_after=retry_after,
                delay=delay,
            )
        )

    async def clear_faults(self) -> JSON:
        return dict(await self.call("clear_faults"))

    async def flood(
        self,
        global_per_sec: int | None = None,
        per_chat_per_sec: int | None = None,
        per_group_per_min: int | None = None,
    ) -> JSON:
        return dict(
            await self.call(
                "flood",
                global_per_sec=global_per_sec,
                per_chat_per_sec=per_chat_per_sec,
                per_group_per_min=per_group_per_min,
            )
        )

    async def clock(self, advance: float | None = None) -> JSON:
        return dict(await self.call("clock", advance=advance))

    async def webhook_timeout(self, seconds: float, retry_delay: float | None = None) -> JSON:
        return dict(await self.call("webhook_timeout", seconds=seconds, retry_delay=retry_delay))

    async def reset(self) -> None:
        await self.call("reset")

    # reads
    async def state(self) -> JSON:
        return dict(await self.call("state"))

    async def chat(self, chat_id: int | str) -> JSON:
        return dict(await self.call("chat", chat_id=chat_id))

    async def poll(self, poll_id: str) -> JSON:
        return dict(await self.call("poll", poll_id=poll_id))

    async def polls(self) -> list[JSON]:
        return list(await self.call("polls"))

    async def calls(self, method: str | None = None) -> list[JSON]:
        return list(await self.call("calls", method=method))

    async def callback_answers(self) -> list[JSON]:
        return list(await self.call("callback_answers"))

    async def my_commands(self) -> JSON:
        return dict(await self.call("my_commands"))

    async def pending(self) -> int:
        return int(await self.call("pending"))

    async def file(self, file_id: str) -> JSON:
        """File info (size, sha256, ...) plus `data`, the bytes decoded from base64."""
        info = dict(await self.call("file", file_id=file_id))
        info["data"] = base64.b64decode(info.pop("base64"))
        return info
