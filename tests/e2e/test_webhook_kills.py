"""The real ``pollbot run`` in webhook mode, killed with SIGKILL three times while 40
deliveries at a time come in.

The deliveries come from a deliverer of this test's own that works like Telegram's webhook
(the sandbox's delivers one at a time): up to 40 requests in flight, the updates of one
voter one at a time and in order, and anything not answered 2xx delivered again. After
every kill, every update answered 200 is stored (its "handled" mark and its vote); at the
end the stored answers equal the sandbox's votes exactly.

POLLBOT_WEBHOOK_KILL_DELIVERIES sets how many votes: 5,000 by default, to keep the suite
quick; the issue's figure is 20,000 (about 35 s on two cores).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp
from telegram import Bot

from bot.logs import protect
from bot.sandbox import Sandbox
from storage import Store
from tests.cast import GROUP
from tests.e2e.test_crash_recovery import OPTIONS, USERS, assert_stored_as_voted, crowd_answers
from tests.harness import start_bot, wait_for, write_config

DELIVERIES = int(os.environ.get("POLLBOT_WEBHOOK_KILL_DELIVERIES", "5000"))
CONNECTIONS = 40  # Telegram's default max_connections
SECRET = "kill-test-secret-0123456789"
Choice = tuple[int, ...]


class Telegram:
    """Delivers updates like Telegram's webhook, and remembers what was answered 200."""

    def __init__(self, url: str, updates: list[dict[str, Any]], bodies: list[bytes]) -> None:
        self.url = url
        self.queues: dict[str, deque[tuple[dict[str, Any], bytes]]] = {}
        for update, body in zip(updates, bodies, strict=True):
            self.queues.setdefault(queue_of(update), deque()).append((update, body))
        self.total = len(updates)
        self.acked: list[int] = []
        self.acked_choice: dict[str, Choice] = {}  # a voter's last answer answered 200
        self.flying_choice: dict[str, Choice] = {}  # the one on its way (one per voter)
        self.gate = asyncio.Semaphore(CONNECTIONS)

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(self.drain(session, q) for q in self.queues.values()))

    async def drain(self, session: aiohttp.ClientSession, queue: deque[Any]) -> None:
        """One voter's (or the poll's) updates, in order, each until answered 2xx."""
        while queue:
            update, body = queue[0]
            answer = update.get("poll_answer")
            voter = str(answer["user"]["id"]) if answer else None
            if voter is not None:
                self.flying_choice[voter] = tuple(answer["option_ids"])
            delay = 0.02
            while not await self.post(session, body):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
            queue.popleft()
            self.acked.append(update["update_id"])
            if voter is not None:
                self.acked_choice[voter] = self.flying_choice.pop(voter)

    async def post(self, session: aiohttp.ClientSession, body: bytes) -> bool:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with self.gate:
            try:
                async with session.post(
                    self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
                ) as response:
                    await response.read()
                    return 200 <= response.status < 300
            except (aiohttp.ClientError, TimeoutError):
                return False


def queue_of(update: dict[str, Any]) -> str:
    """Telegram delivers the updates of one user (or one poll) in order, one at a time."""
    if "poll_answer" in update:
        return f"user {update['poll_answer']['user']['id']}"
    return f"poll {update['poll']['id']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def assert_answered_means_stored(database: Path, telegram: Telegram, poll_id: str) -> None:
    """Every update answered 200 is marked handled, and every voter's stored answer is
    the last one answered 200, or the one that was on its way when the bot died."""
    async with await Store.open(database) as store:
        handled: set[int] = set()
        for start in range(0, len(telegram.acked), 500):
            chunk = telegram.acked[start : start + 500]
            handled |= await store.webhook_updates_handled(chunk)
        stored = {a.voter: a.positions async for a in store.answers(poll_id)}
    assert handled == set(telegram.acked)
    for voter, choice in telegram.acked_choice.items():
        allowed = {choice, telegram.flying_choice.get(voter, choice)}
        assert stored.get(voter, ()) in allowed, voter


async def test_sigkill_while_webhook_deliveries_come_in_loses_and_doubles_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    telegram_section = (
        f'token = "{sandbox.token}"\napi_url = "{sandbox.api_url}"\nmode = "webhook"\n'
        f'[telegram.webhook]\nlisten = "127.0.0.1"\nport = {port}\n'
        f'url = "{url}"\nsecret_token = "{SECRET}"\n'
    )
    config = write_config(tmp_path, sandbox, telegram=telegram_section)
    protect(sandbox.token)  # this test's own client logs Bot API URLs too
    async with Bot(sandbox.token, base_url=sandbox.api_url) as client:
        message = await client.send_poll(GROUP, "Which lineup?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    poll_id = message.poll.id
    votes = crowd_answers(count=DELIVERIES)
    for vote in votes:
        vote[1] = poll_id
    assert sandbox.world.bulk_votes(votes)["applied"] == DELIVERIES
    # This test delivers them itself, 40 at a time: the sandbox's own webhook has none left.
    queue = sandbox.world.updates
    entries = queue.first(len(queue))
    queue.confirm(entries[-1].update_id + 1)
    assert sandbox.world.pending() == 0
    updates = [entry.update for entry in entries if entry.update is not None]
    telegram = Telegram(url, updates, [entry.encoded or b"" for entry in entries])
    delivering = asyncio.create_task(telegram.run())
    log = tmp_path / "bot.log"
    process = None
    try:
        for fraction in (0.15, 0.4, 0.65):
            process = start_bot(config, log)
            target = telegram.total * fraction
            await wait_for(lambda t=target: len(telegram.acked) >= t, 60, "the deliveries")
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=10) == -signal.SIGKILL
            assert len(telegram.acked) < telegram.total, "delivered before it could be killed"
            await assert_answered_means_stored(tmp_path / "pollbot.sqlite3", telegram, poll_id)

        process = start_bot(config, log)
        await asyncio.wait_for(delivering, 120)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        delivering.cancel()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    expected = await assert_stored_as_voted(sandbox, tmp_path / "pollbot.sqlite3", poll_id)
    assert len(expected) > min(USERS, DELIVERIES) * 0.5
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count("pollbot started") == 4 and "pollbot stopped" in text
    assert sandbox.token.split(":", 1)[1] not in text
