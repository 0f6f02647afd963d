"""Which requests bot/flood.py paces per private chat (the timing is tested end to end)."""

from __future__ import annotations

import pytest

from bot.flood import PacedRateLimiter


def test_messages_to_one_private_chat_share_a_limiter() -> None:
    pacer = PacedRateLimiter(max_retries=0)
    one = pacer.private_limiter(1001, "sendMessage")
    assert one is not None
    assert pacer.private_limiter("1001", "sendPhoto") is one
    assert pacer.private_limiter(1001, "editMessageText") is one
    assert pacer.private_limiter(1002, "sendMessage") not in (None, one)


@pytest.mark.parametrize(
    ("chat_id", "endpoint"),
    [
        (-1001001, "sendMessage"),  # channels and groups: AIORateLimiter's group limit
        ("@plantnews", "sendPoll"),
        (None, "sendMessage"),
        (1001, "getChat"),  # not a message
        (1001, "getChatMember"),
    ],
)
def test_everything_else_is_left_to_aioratelimiter(chat_id: object, endpoint: str) -> None:
    assert PacedRateLimiter(max_retries=0).private_limiter(chat_id, endpoint) is None


def test_an_interval_of_zero_switches_the_pacing_off() -> None:
    pacer = PacedRateLimiter(max_retries=0, interval=0)
    assert pacer.private_limiter(1001, "sendMessage") is None


async def test_idle_chats_are_forgotten_when_many_are_tracked() -> None:
    pacer = PacedRateLimiter(max_retries=0)
    for user_id in range(1, 1025):
        pacer.private_limiter(user_id, "sendMessage")
    busy = pacer.private_limiter(7, "sendMessage")
    assert busy is not None
    await busy.acquire()  # a message just went to chat 7: its pace must be kept
    pacer.private_limiter(5000, "sendMessage")
    assert list(pacer._private) == [7, 5000]
