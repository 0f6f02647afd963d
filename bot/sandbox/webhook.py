"""Webhook mode: POST each pending update, in order, one at a time, to the URL set by setWebhook.

A 2xx answer confirms the update; anything else (status, connection error, timeout) is
recorded in getWebhookInfo and the same update is retried after `retry_delay`.
"""

from __future__ import annotations

import asyncio

import aiohttp

from bot.sandbox.models import WebhookConfig
from bot.sandbox.updates import Entry
from bot.sandbox.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def post_update(
    session: aiohttp.ClientSession, hook: WebhookConfig, entry: Entry
) -> str | None:
    """Deliver one update; None on success, else Telegram's last_error_message."""
    headers = {"Content-Type": "application/json"}
    if hook.secret_token:
        headers[SECRET_HEADER] = hook.secret_token
    timeout = aiohttp.ClientTimeout(total=hook.timeout)
    try:
        async with session.post(
            hook.url, data=entry.encoded, headers=headers, timeout=timeout
        ) as response:
            await response.read()
            if 200 <= response.status < 300:
                return None
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except TimeoutError:
        return "Read timeout expired"
    except aiohttp.ClientError as err:
        return f"Connection failed: {err.__class__.__name__}"


async def deliver_forever(world: World, session: aiohttp.ClientSession) -> None:
    """Run until cancelled: deliver while a webhook is set, otherwise wait for one."""
    queue = world.updates
    while True:
        hook = world.webhook
        batch = queue.first(1) if hook.url else []
        if not batch:
            await queue.wait_change(1.0)
            continue
        entry = batch[0]
        error = await post_update(session, hook, entry)
        if error is None:
            if world.webhook is hook and hook.url:  # not reset meanwhile
                queue.confirm(entry.update_id + 1)
            continue
        hook.last_error_date = int(world.now())
        hook.last_error_message = error
        await asyncio.sleep(hook.retry_delay)
