"""Injected faults and Telegram-like flood limits, both set through the control API."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field

from bot.sandbox.errors import ControlError
from bot.sandbox.models import JSON

FAULT_KINDS = ("429", "500", "403", "slow", "timeout")
# Calls that post or change a message count against flood limits.
FLOOD_METHODS = frozenset(
    {
        "sendMessage",
        "sendPoll",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "stopPoll",
    }
)
_Window = tuple[tuple[str, int], int, float]


@dataclass(slots=True)
class FaultRule:
    """Answer the next `times` matching calls with a fault instead of (or before) the result.

    kind: "429" (retry_after s), "500", "403" (bot kicked), "slow" (wait `delay` s, then
    answer normally), "timeout" (hold `delay` s, default 30, then perform the call; the
    client has usually given up by then, as with a real timeout).
    """

    method: str = "*"
    chat_id: int | str | None = None
    kind: str = "500"
    times: int = 1
    retry_after: int = 5
    delay: float | None = None

    def matches(self, method: str, chat_ids: tuple[object, ...]) -> bool:
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or self.chat_id in chat_ids

    def hold_seconds(self) -> float:
        if self.delay is not None:
            return self.delay
        return 30.0 if self.kind == "timeout" else 1.0


@dataclass(slots=True)
class Faults:
    """The active fault rules, consumed one per matching call."""

    rules: list[FaultRule] = field(default_factory=list)

    def add(self, rule: FaultRule) -> None:
        if rule.kind not in FAULT_KINDS:
            raise ControlError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if rule.times < 1:
            raise ControlError("times must be at least 1")
        self.rules.append(rule)

    def take(self, method: str, chat_ids: tuple[object, ...]) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, chat_ids):
                rule.times -= 1
                if rule.times == 0:
                    self.rules.remove(rule)
                return rule
        return None

    def to_json(self) -> list[JSON]:
        return [asdict(rule) for rule in self.rules]


@dataclass(slots=True)
class FloodLimits:
    """Sliding-window limits on the sandbox clock; None switches a limit off."""

    global_per_sec: int | None = None
    per_chat_per_sec: int | None = None
    per_group_per_min: int | None = None
    _sent: dict[tuple[str, int], deque[float]] = field(default_factory=dict)

    def configure(
        self,
        global_per_sec: int | None,
        per_chat_per_sec: int | None,
        per_group_per_min: int | None,
    ) -> None:
        self.global_per_sec = global_per_sec
        self.per_chat_per_sec = per_chat_per_sec
        self.per_group_per_min = per_group_per_min
        self._sent.clear()

    def _windows(self, chat_id: int | None, is_group: bool) -> list[_Window]:
        windows: list[_Window] = []
        if self.global_per_sec:
            windows.append((("global", 0), self.global_per_sec, 1.0))
        if chat_id is not None and self.per_chat_per_sec:
            windows.append((("chat", chat_id), self.per_chat_per_sec, 1.0))
        if chat_id is not None and is_group and self.per_group_per_min:
            windows.append((("group", chat_id), self.per_group_per_min, 60.0))
        return windows

    def retry_after(self, chat_id: int | None, is_group: bool, now: float) -> int | None:
        """Seconds until a slot frees (ceil, at least 1), or None when the call may go."""
        wait = 0.0
        for key, cap, window in self._windows(chat_id, is_group):
            sent = self._sent.get(key)
            if sent is None:
                continue
            while sent and sent[0] <= now - window:
                sent.popleft()
            if len(sent) >= cap:
                wait = max(wait, sent[len(sent) - cap] + window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, chat_id: int | None, is_group: bool, now: float) -> None:
        for key, _cap, _window in self._windows(chat_id, is_group):
            self._sent.setdefault(key, deque()).append(now)

    def to_json(self) -> JSON:
        return {
            "global_per_sec": self.global_per_sec,
            "per_chat_per_sec": self.per_chat_per_sec,
            "per_group_per_min": self.per_group_per_min,
        }
