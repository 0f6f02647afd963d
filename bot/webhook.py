"""Webhook mode: an ASGI app (starlette + uvicorn) that commits each update before it answers.

Telegram POSTs every update to ``[telegram.webhook] url`` with the secret in the
``X-Telegram-Bot-Api-Secret-Token`` header. A wrong or missing secret gets 403 and nothing
is processed. A good one is handled through the same pump code as long polling and
committed; only then does the app answer 200, so an update is never confirmed before it is
stored. Deliveries that arrive while a commit is in flight are committed together in the
next one (``UpdatePump.process_delivered``), so 40 connections share one fsync instead of
queueing for 40. Telegram re-delivers an update it got no 2xx for; the pump recognises one
it already handled and answers 200 again without handling it twice; one whose group could
not be committed gets 503 and comes again. Bad input never gets a 500: a body over 1 MB gets
413 before it is read, one that is not an update 400.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram.error import TelegramError

from bot.config import Config
from bot.group_commit import NotCommitted
from bot.pump import ALLOWED_UPDATES, UpdatePump, raw_update_id

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
KEEP_HANDLED_SECONDS = 2 * 24 * 3600  # Telegram keeps an update for 24 hours
# An update is at most a few kilobytes (a message of 4,096 characters with its entities);
# a bigger body is not an update, and is refused before it takes the memory.
MAX_BODY = 1024 * 1024
CATCH_UP_WAIT = 60.0  # seconds to wait for the pending updates before catching up anyway
CATCH_UP_POLL = 1.0  # seconds between two getWebhookInfo calls meanwhile


def build_webhook_app(pump: UpdatePump, secret_token: str, path: str) -> Starlette:
    """The ASGI app: POST ``path`` takes updates, GET /healthz answers ok."""

    async def receive_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret_token or not hmac.compare_digest(given, secret_token):
            log.warning(
                "webhook call with a wrong or missing secret from %s",
                request.client.host if request.client else "?",
            )
            return PlainTextResponse("forbidden", status_code=403)
        body = await _limited_body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested beyond any update
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(raw, dict) or raw_update_id(raw) is None:
            return PlainTextResponse("not an update", status_code=400)
        try:
            await pump.process_delivered(raw)
        except NotCommitted:  # the group's leader failed: Telegram delivers it again
            return PlainTextResponse("not stored", status_code=503)
        return PlainTextResponse("ok")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route(path, receive_update, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


async def _limited_body(request: Request) -> bytes | None:
    """The request's body, or None as soon as it is known to exceed MAX_BODY: a declared
    length is refused before reading, and a body without one is read only that far."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


async def serve(pump: UpdatePump, config: Config, stop: asyncio.Event) -> None:
    """Register the webhook with Telegram and serve until ``stop`` is set."""
    hook = config.telegram.webhook
    app = build_webhook_app(pump, hook.secret_token, hook.path)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=hook.listen,
            port=hook.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    await pump.bot.set_webhook(
        hook.url, secret_token=hook.secret_token, allowed_updates=list(ALLOWED_UPDATES)
    )
    log.info(
        "webhook set to %s; listening on %s:%d%s", hook.url, hook.listen, hook.port, hook.path
    )
    await pump.store.prune_webhook_updates(pump.store.now() - KEEP_HANDLED_SECONDS)
    serving = asyncio.create_task(server.serve())
    stopped = asyncio.create_task(stop.wait())
    catching_up = asyncio.create_task(catch_up_when_drained(pump))
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopped.cancel()
    catching_up.cancel()
    await asyncio.gather(catching_up, return_exceptions=True)
    await serving
    stats = pump.stats
    log.info("webhook: %d updates committed in %d transactions", stats.updates, stats.batches)


async def catch_up_when_drained(
    pump: UpdatePump, *, wait: float = CATCH_UP_WAIT, every: float = CATCH_UP_POLL
) -> None:
    """Run the pump's caught-up hook once Telegram has no update pending for the webhook
    (the ones waiting at start are then handled), or after ``wait`` seconds anyway."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            info = await pump.bot.get_webhook_info()
            if info.pending_update_count == 0:
                break
        except TelegramError as exc:
            log.warning("getWebhookInfo failed: %s", exc)
        if loop.time() >= deadline:
            log.warning("updates still pending after %.0f s: catching up anyway", wait)
            break
        await asyncio.sleep(every)
    await pump.mark_caught_up()
