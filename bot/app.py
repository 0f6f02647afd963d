"""Wiring: build the PTB Application, register every feature's handlers, run the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

from bot import admin, articles, digests, polls
from bot.config import Config
from bot.pump import RawUpdatesBot, UpdatePump, report_handler_error
from bot.services import Services, install
from bot.webhook import serve as serve_webhook
from storage import Store

log = logging.getLogger(__name__)

PTBApplication = Application[Any, Any, Any, Any, Any, Any]
# A 429 is retried after its retry_after, never dropped (AIORateLimiter's default is 0).
RATE_LIMIT_RETRIES = 5


def build_bot(config: Config) -> RawUpdatesBot:
    """The Bot API client: HTML by default, flood control with retries on 429."""
    return RawUpdatesBot(
        token=config.telegram.token,
        base_url=config.telegram.api_url,
        request=HTTPXRequest(connection_pool_size=32, read_timeout=15.0, media_write_timeout=60),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=AIORateLimiter(max_retries=RATE_LIMIT_RETRIES),
    )


def build_application(config: Config) -> PTBApplication:
    """Build the Application (no Updater: the pump fetches updates) and add handlers."""
    application = ApplicationBuilder().bot(build_bot(config)).updater(None).build()
    add_handlers(application)
    return application


# Feature modules, each exporting HANDLERS (and an on_startup hook). Every handler goes in
# group 0: an update is handled by the first matching handler, and no two features claim
# the same command or update type.
FEATURES = (admin, articles, polls, digests)


def add_handlers(application: PTBApplication) -> None:
    """The one place handlers are registered; each feature module exports HANDLERS."""
    for module in FEATURES:
        for handler in module.HANDLERS:
            application.add_handler(handler)
    application.add_error_handler(on_error)


async def on_error(update: object, context: Any) -> None:
    """Log a failed update (never its token-bearing URLs) and tell the pump."""
    error = context.error
    if error is None:
        return
    update_id = getattr(update, "update_id", None)
    log.error("update %s failed", update_id, exc_info=error)
    report_handler_error(error)


async def start_services(application: PTBApplication, config: Config) -> Services:
    """What post_init would do: open the store and put the services in bot_data."""
    store = await Store.open(config.storage.path)
    services = Services(config=config, store=store)
    install(application, services)
    try:
        for module in FEATURES:
            await module.on_startup(application)
    except BaseException:
        await store.close()
        raise
    return services


@asynccontextmanager
async def running(application: PTBApplication, config: Config) -> AsyncIterator[Services]:
    """Initialise the application and services, and shut everything down on every exit."""
    await application.initialize()
    try:
        services = await start_services(application, config)
        try:
            await application.start()
            try:
                yield services
            finally:
                await application.stop()
        finally:
            await services.store.close()
    finally:
        await application.shutdown()


async def run(config: Config, stop: asyncio.Event) -> None:
    """Run the bot with the durable pump until ``stop`` is set."""
    application = build_application(config)
    async with running(application, config) as services:
        me = application.bot.bot
        log.info("pollbot started as @%s (id %s)", me.username, me.id)
        pump = UpdatePump(application, services.store, timeout=config.telegram.poll_timeout)
        if config.telegram.mode == "webhook":
            await serve_webhook(pump, config, stop)
        else:
            await application.bot.delete_webhook()
            await pump.run(stop)
        log.info(
            "pollbot stopped: %d updates in %d batches, %d quarantined",
            pump.stats.updates,
            pump.stats.batches,
            pump.stats.dead_letters,
        )
