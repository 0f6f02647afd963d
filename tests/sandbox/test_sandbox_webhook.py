"""Webhook mode: ordered delivery with the secret header, retries, and getUpdates conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import telegram
from aiohttp import web
from telegram.error import Conflict

from bot.sandbox import World
from tests.sandbox.support import Cast


@dataclass
class Receiver:
    """A webhook endpoint that answers with scripted statuses (200 once the script ends)."""

    url: str = ""
    script: list[int | float] = field(default_factory=list)
    received: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    attempts: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        step = self.script.pop(0) if self.script else 200
        if isinstance(step, float):  # hang longer than the sandbox waits
            await asyncio.sleep(step)
            step = 200
        if step == 200:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            self.received.append((secret, await request.json()))
        return web.Response(status=step)

    async def wait_for(self, count: int) -> None:
        for _ in range(200):
            if len(self.received) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"received {len(self.received)} of {count} updates")


@pytest.fixture
async def receiver(world: World) -> AsyncIterator[Receiver]:
    world.webhook_timeout(0.5, retry_delay=0.05)
    endpoint = Receiver()
    app = web.Application()
    app.router.add_post("/hook", endpoint.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield endpoint
    await runner.cleanup()


async def test_updates_are_posted_in_order_with_the_secret(
    bot: telegram.Bot, world: World, cast: Cast, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="s3cret-token_1")
    for text in ("one", "two", "three"):
        world.send(cast.reader_ru, text)
    await receiver.wait_for(3)
    assert [secret for secret, _ in receiver.received] == ["s3cret-token_1"] * 3
    updates = [telegram.Update.de_json(body, bot) for _, body in receiver.received]
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    info = await bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0
    assert info.has_custom_certificate is False


async def test_non_2xx_is_retried_and_reported(
    bot: telegram.Bot, world: World, cast: Cast, receiver: Receiver
) -> None:
    receiver.script = [500, 502]
    await bot.set_webhook(receiver.url)
    world.send(cast.reader_ru, "retry me")
    world.send(cast.reader_ru, "after")
    await receiver.wait_for(2)
    assert receiver.attempts == 4
    assert [body["message"]["text"] for _, body in receiver.received] == ["retry me", "after"]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert info.last_error_date is not None


async def test_timeout_is_retried(
    bot: telegram.Bot, world: World, cast: Cast, receiver: Receiver
) -> None:
    receiver.script = [1.0]
    await bot.set_webhook(receiver.url)
    world.send(cast.reader_ru, "slow endpoint")
    await receiver.wait_for(1)
    assert receiver.attempts >= 2
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Read timeout expired"


async def test_get_updates_conflicts_while_a_webhook_is_set(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unreachable", allowed_updates=["message"])
    world.send(cast.reader_ru, "queued")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.allowed_updates == ("message",)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    world.send(cast.reader_ru, "polled")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["polled"]
