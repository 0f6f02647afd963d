"""Webhook mode: the secret is checked, an update is committed before 200, never twice."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.drafts import publishing
from bot.sandbox import Sandbox
from bot.webhook import SECRET_HEADER, serve
from tests.cast import ADMIN, AUTONEWS, GROUP, PLANTNEWS, READER, READER_RU
from tests.harness import BotHarness, bot_harness, wait_for

SECRET = "s3cret-token_for-tests"
ARTICLE = "moscow-plant-reboot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def webhook_bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[BotHarness, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    telegram = (
        f'token = "{sandbox.token}"\napi_url = "{sandbox.api_url}"\nmode = "webhook"\n'
        f'[telegram.webhook]\nlisten = "127.0.0.1"\nport = {port}\n'
        f'url = "{url}"\nsecret_token = "{SECRET}"\n'
    )
    async with bot_harness(sandbox, tmp_path, telegram=telegram) as bot:
        stop = asyncio.Event()
        server = asyncio.create_task(serve(bot.pump, bot.config, stop))
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
        try:
            yield bot, url
        finally:
            stop.set()
            await asyncio.wait_for(server, timeout=10)


async def settle(sandbox: Sandbox, seconds: float = 10) -> None:
    """Wait until the sandbox has delivered every update to the webhook."""
    for _ in range(int(seconds / 0.02)):
        if sandbox.world.pending() == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the webhook did not take every update")


async def test_updates_are_committed_and_a_redelivery_is_handled_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with webhook_bot(sandbox, tmp_path) as (bot, url):
        info = await bot.application.bot.get_webhook_info()
        assert info.url == url
        message = await bot.application.bot.send_poll(
            GROUP, "Which lineup?", ["A", "B"], is_anonymous=False
        )
        assert message.poll is not None
        # The bot's reply takes 1 s; the sandbox gives up after 0.3 s and delivers again.
        sandbox.world.webhook_timeout(0.3, retry_delay=0.05)
        sandbox.world.fault("slow", method="sendMessage", delay=1.0)
        sandbox.world.send(READER, "/start")
        for user in range(1, 21):
            sandbox.world.vote(user, message.poll.id, [user % 2])
        await settle(sandbox)
        info = await bot.application.bot.get_webhook_info()
        assert info.last_error_message == "Read timeout expired"  # it was delivered again
        replies = bot.bot_messages(READER)
        assert len(replies) == 1
        stored = {a.voter: a.positions async for a in bot.store.answers(message.poll.id)}
        assert stored == {str(u): (u % 2,) for u in range(1, 21)}
        calls = sandbox.world.calls("sendMessage")
        assert len([c for c in calls if c["params"]["chat_id"] == READER]) == 1


@pytest.mark.parametrize("header", [{SECRET_HEADER: "wrong-secret-value"}, {}])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    sandbox: Sandbox, tmp_path: Path, header: dict[str, str]
) -> None:
    async with webhook_bot(sandbox, tmp_path) as (bot, url):
        update = {
            "update_id": 777,
            "poll_answer": {
                "poll_id": "p1",
                "option_ids": [0],
                "option_persistent_ids": ["0"],
                "user": {"id": 5, "is_bot": False, "first_name": "Eve"},
            },
        }
        async with httpx.AsyncClient() as http:
            response = await http.post(url, json=update, headers=header)
        assert response.status_code == 403
        assert await bot.store.answer_count("p1") == 0
        assert await bot.store.dead_letters() == []
        async with httpx.AsyncClient() as http:
            response = await http.post(url, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200
        assert await bot.store.answer_count("p1") == 1


POLL_ANSWER = {
    "update_id": 778,
    "poll_answer": {
        "poll_id": "p2",
        "option_ids": [1],
        "option_persistent_ids": ["1"],
        "user": {"id": 6, "is_bot": False, "first_name": "Vera"},
    },
}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe not even text",
        b"[1, 2]",
        b'"an update"',
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"update_id": 1000000000000000000000000000000, "message": {}}',
        b'{"message": {}}',
    ],
    ids=["broken", "binary", "a list", "a string", "nested", "a 100-bit id", "no id"],
)
async def test_a_body_that_is_not_an_update_is_refused_and_the_webhook_keeps_working(
    sandbox: Sandbox, tmp_path: Path, body: bytes
) -> None:
    """With the right secret, a body that is not a JSON object gets 400 and stores nothing;
    the next real update is taken as usual."""
    async with webhook_bot(sandbox, tmp_path) as (bot, url):
        async with httpx.AsyncClient() as http:
            refused = await http.post(url, content=body, headers={SECRET_HEADER: SECRET})
            taken = await http.post(url, json=POLL_ANSWER, headers={SECRET_HEADER: SECRET})

        assert refused.status_code == 400
        assert taken.status_code == 200
        assert await bot.store.dead_letters() == []
        assert await bot.store.answer_count("p2") == 1


async def test_a_body_over_a_megabyte_is_refused_before_it_is_read(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """413 whether the length is declared or the body is streamed without one."""
    huge = b'{"update_id": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    async with webhook_bot(sandbox, tmp_path) as (bot, url), httpx.AsyncClient() as http:
        declared = await http.post(url, content=huge, headers={SECRET_HEADER: SECRET})
        streamed = await http.post(url, content=chunks(), headers={SECRET_HEADER: SECRET})
        taken = await http.post(url, json=POLL_ANSWER, headers={SECRET_HEADER: SECRET})
        assert await bot.store.dead_letters() == []
    assert (declared.status_code, streamed.status_code, taken.status_code) == (413, 413, 200)


async def test_a_delivery_cut_short_is_finished_when_it_comes_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The bot dies in the middle of a /post (here: its publishing task is cancelled while
    the second channel's article is on its way). The delivery was stored before the post
    went out, so a re-delivery is recognised; the start after the crash finishes the post,
    and nothing that went out before is sent twice."""
    async with bot_harness(sandbox, tmp_path) as bot:
        raw = bot.queued_update(ADMIN, "/post moscow-plant-reboot")
        sandbox.world.fault("timeout", method="sendMessage", chat_id=AUTONEWS, delay=30)
        assert await bot.pump.process_delivered(raw)  # the post goes out apart from it
        await wait_for(lambda: bool(bot.bot_messages(PLANTNEWS)), 10, "the first channel")
        await asyncio.sleep(0.2)  # the second channel's send is held by the sandbox
        for task in list(bot.services.publishing_tasks):  # the process dies
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sandbox.world.clear_faults()

        await publishing.resume(bot.application)  # the next start finishes the post
        await bot.settle()

        for chat in (PLANTNEWS, AUTONEWS):
            polls = [m for m in bot.bot_messages(chat) if "poll" in m]
            articles = [m for m in bot.bot_messages(chat) if "poll" not in m]
            assert len(polls) == 1, chat
            assert len(articles) == len({m["text"] for m in articles}) > 0, chat
        assert "Posting" in bot.bot_messages(ADMIN)[-1]["text"]
        assert not await bot.pump.process_delivered(raw)  # handled to the end: once


def poll_answer(update_id: int, user: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "poll_answer": {
            "poll_id": "p-group",
            "option_ids": [user % 2],
            "option_persistent_ids": [str(user % 2)],
            "user": {"id": user, "is_bot": False, "first_name": f"Voter {user}"},
        },
    }


async def test_deliveries_during_a_commit_are_committed_together_and_one_failure_fails_alone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """While the first delivery's commit is in flight (its reply is slow), 39 more arrive:
    they are committed together in the next transaction. One of them fails (Telegram
    answers 500 to its reply): it alone is undone and quarantined; a re-delivery in the same
    group is recognised; every caller gets its answer."""
    async with bot_harness(sandbox, tmp_path) as bot:
        sandbox.world.fault("slow", method="sendMessage", chat_id=READER, delay=0.3)
        sandbox.world.fault("500", method="sendMessage", chat_id=READER_RU)
        first = bot.queued_update(READER, "/start")
        failing = bot.queued_update(READER_RU, f"/summary {ARTICLE}")
        votes = [poll_answer(first["update_id"] + 100 + user, user) for user in range(1, 38)]
        batches = bot.pump.stats.batches

        answers = await asyncio.gather(
            *(bot.pump.process_delivered(raw) for raw in [first, *votes, failing, votes[5]])
        )

        assert answers == [True] * 39 + [False]  # the last one came again: handled once
        assert bot.pump.stats.batches - batches == 2
        stored = {a.voter: a.positions async for a in bot.store.answers("p-group")}
        assert stored == {str(user): (user % 2,) for user in range(1, 38)}
        [letter] = await bot.store.dead_letters()
        assert letter.update_id == failing["update_id"]
        assert await bot.store.summary_readers(ARTICLE) == 0
        assert len(bot.bot_messages(READER)) == 1
        again = await asyncio.gather(
            *(bot.pump.process_delivered(raw) for raw in [first, failing])
        )
        assert again == [False, False]
