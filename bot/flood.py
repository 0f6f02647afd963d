"""Flood control: PTB's AIORateLimiter plus the limit of one private chat (~1 message/s).

AIORateLimiter paces the overall limit (~30 messages/s) and the per-group one (20/min,
channels included), and sends a request again after a 429's retry_after. It leaves out
the limit of a single chat, which only a private chat can reach under the group limit.
Telegram asks for at most one message per second in a chat and tolerates short bursts,
so a private chat gets a burst of a few messages at once (a digest and its chart), then
one per second. Without pacing, a longer burst would meet 429s and wait out each one's
retry_after before its retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
# The calls that post or change a message: what Telegram counts against a chat's limit.
MESSAGE_METHODS = ("send", "copyMessage", "forwardMessage", "editMessage", "stopPoll")
PRIVATE_CHAT_BURST = 3  # messages one private chat may get at once...
PRIVATE_CHAT_INTERVAL = 1.0  # ...then one per this many seconds
_MAX_TRACKED = 1024  # private chats remembered at once; idle ones are forgotten first


class PacedRateLimiter(AIORateLimiter):
    """AIORateLimiter that also paces one private chat: ``burst`` messages at once, then
    one per ``interval`` seconds (0 switches the pacing off)."""

    def __init__(
        self,
        *,
        max_retries: int,
        interval: float = PRIVATE_CHAT_INTERVAL,
        burst: int = PRIVATE_CHAT_BURST,
    ) -> None:
        super().__init__(max_retries=max_retries)
        self._interval, self._burst = interval, burst
        self._private: dict[int, AsyncLimiter] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        limiter = self.private_limiter(data.get("chat_id"), endpoint)
        async with limiter or contextlib.nullcontext():
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

    def private_limiter(self, chat_id: object, endpoint: str) -> AsyncLimiter | None:
        """The limiter of a message to a private chat; None for anything else."""
        if not self._interval or not endpoint.startswith(MESSAGE_METHODS):
            return None
        try:
            user_id = int(chat_id)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return None  # None, or an @username: a channel or a group
        if user_id <= 0:
            return None  # groups and channels: AIORateLimiter's group limit is stricter
        limiter = self._private.get(user_id)
        if limiter is None:
            self._forget_idle()
            # A leaky bucket: ``burst`` deep, drained at one message per ``interval``.
            limiter = AsyncLimiter(self._burst, self._burst * self._interval)
            self._private[user_id] = limiter
        return limiter

    def _forget_idle(self) -> None:
        if len(self._private) < _MAX_TRACKED:
            return
        for user_id, limiter in list(self._private.items()):
            if limiter.has_capacity(limiter.max_rate):
                del self._private[user_id]
