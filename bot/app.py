"""Wiring: build the PTB Application, register every feature's handlers, run the bot."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from telegram import Chat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

from bot import admin, articles, digests, drafts, polls
from bot.config import Config
from bot.feature import PTBApplication, all_commands
from bot.flood import PRIVATE_CHAT_INTERVAL, PacedRateLimiter
from bot.logs import protect
from bot.pump import Backoff, RawUpdatesBot, UpdatePump, report_handler_error, sleep_unless_stopped
from bot.replies import send_once
from bot.services import Services, install, services
from bot.texts import translate
from bot.webhook import serve as serve_webhook
from storage import Store
from storage.clock import Clock
from storage.lock import lock_database

log = logging.getLogger(__name__)

# A 429 is retried after its retry_after (AIORateLimiter's default is no retry), up to
# this many times; then the send fails and the admin's report names the chat. The limits
# themselves are paced by bot/flood.py, a private chat's included.
RATE_LIMIT_RETRIES = 5
DAY = 24 * 3600  # seconds; also the interval of the pruning job


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), loaded once for every client: loading
    it costs about 25 ms, and each bot has two clients (sends and getUpdates)."""
    return httpx.create_ssl_context()


def build_bot(
    config: Config, *, private_chat_interval: float = PRIVATE_CHAT_INTERVAL
) -> RawUpdatesBot:
    """The Bot API client: HTML by default, flood control with retries on 429.

    ``private_chat_interval=0`` switches off the pacing of private chats (bot/flood.py);
    only tests do, outside the flood tests, so that a conversation is not a second a line.
    """
    protect(config.telegram.token)  # request URLs contain it: keep it out of every log
    return RawUpdatesBot(
        token=config.telegram.token,
        base_url=config.telegram.api_url,
        request=HTTPXRequest(
            connection_pool_size=32,
            read_timeout=15.0,
            media_write_timeout=60,
            httpx_kwargs={"verify": _tls()},
        ),
        get_updates_request=HTTPXRequest(
            connection_pool_size=2, read_timeout=10.0, httpx_kwargs={"verify": _tls()}
        ),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=PacedRateLimiter(
            max_retries=RATE_LIMIT_RETRIES, interval=private_chat_interval
        ),
    )


def build_application(
    config: Config, *, private_chat_interval: float = PRIVATE_CHAT_INTERVAL
) -> PTBApplication:
    """Build the Application (no Updater: the pump fetches updates) and add handlers."""
    bot = build_bot(config, private_chat_interval=private_chat_interval)
    application = ApplicationBuilder().bot(bot).updater(None).build()
    add_handlers(application)
    return application


# The features, each a package exporting FEATURE. Every handler goes in group 0: an update
# is handled by the first matching handler, and no two features claim the same command or
# update type. Polls come first: votes are by far the most frequent updates, and PTB checks
# the handlers of a group in order until one matches. The order is also the order of the
# menus and /help (after /start and /help): posting matters more than chat upkeep. Drafts
# (the Publish / Cancel buttons of a preview) are the only callback queries.
FEATURES = (polls.FEATURE, articles.FEATURE, drafts.FEATURE, digests.FEATURE, admin.FEATURE)
COMMANDS = all_commands(FEATURES)


def add_handlers(application: PTBApplication) -> None:
    """The one place handlers are registered."""
    for feature in FEATURES:
        for handler in feature.handlers:
            application.add_handler(handler)
    application.add_error_handler(on_error)


async def on_error(update: object, context: Any) -> None:
    """Log a failed update with an error id, tell whoever asked, and tell the pump."""
    error = context.error
    if error is None:
        return
    error_id = secrets.token_hex(4)
    update_id = getattr(update, "update_id", None)
    log.error("update %s failed (error %s)", update_id, error_id, exc_info=error)
    report_handler_error(error)
    if isinstance(update, Update):
        await _tell_about_failure(update, context, error_id)


async def _tell_about_failure(update: Update, context: Any, error_id: str) -> None:
    """An admin gets the error id privately; a subscriber an apology, in private only."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if services(context).is_admin(user.id):
        text = translate(
            user.language_code,
            "Something went wrong (error {id}). The details are in the bot's log.",
            id=error_id,
        )
    elif chat.type == Chat.PRIVATE:
        text = translate(
            user.language_code, "Sorry, something went wrong. Please try again later."
        )
    else:
        return
    # Not ledgered (key None): the pump puts the failed update in dead_letters and commits
    # it with the batch, so it is not handled again (unless the process dies before that
    # commit, or an operator replays the dead letter: then a new failure gets a new id).
    # Recording it would also checkpoint the batch, committing the writes the failed
    # handler made, which the pump otherwise drops or rolls back to its savepoint.
    send = functools.partial(context.bot.send_message, user.id, text, parse_mode=None)
    try:
        await send_once(context, None, send)
    except TelegramError as exc:
        log.warning("could not report error %s to %s: %s", error_id, user.id, exc)


async def prune(svc: Services) -> None:
    """Delete the ledger, dead letters and audit entries older than ``[storage] keep_days``."""
    pruned = await svc.store.prune(svc.config.storage.keep_days * DAY)
    if pruned.sent or pruned.dead_letters or pruned.audit_log:
        log.info(
            "pruned rows older than %d days: %d sent, %d dead letters, %d audit entries",
            svc.config.storage.keep_days,
            pruned.sent,
            pruned.dead_letters,
            pruned.audit_log,
        )


async def prune_job(context: Any) -> None:
    """The daily pruning (the JobQueue's job)."""
    await prune(services(context))


class StoppedBeforeStart(Exception):
    """Stop was asked while the Bot API could not be reached yet: nothing ran."""


async def connect(application: PTBApplication, stop: asyncio.Event | None) -> None:
    """Initialise the application (getMe), retrying with backoff while the Bot API cannot
    be reached (a closed port, DNS, a 5xx, a 429): a network outage at start is waited out,
    not fatal. A rejected token (InvalidToken) is raised at once; StoppedBeforeStart when
    ``stop`` is set meanwhile."""
    backoff = Backoff(cap=60.0)
    while True:
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter) as exc:
            delay = backoff.next(exc)
            log.warning("the Bot API cannot be reached (%s); retrying in %.1f s", exc, delay)
        if stop is None:
            await asyncio.sleep(delay)
        else:
            await sleep_unless_stopped(delay, stop)
            if stop.is_set():
                raise StoppedBeforeStart


async def caught_up(application: PTBApplication) -> None:
    """Every feature's on_caught_up: the updates waiting at start are applied."""
    for feature in FEATURES:
        if feature.on_caught_up is not None:
            await feature.on_caught_up(application)


@asynccontextmanager
async def running(
    application: PTBApplication,
    config: Config,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[Services]:
    """Initialise the application and services, and shut everything down on every exit.

    What post_init would do happens here: the application connects (``connect``), the
    store opens (with ``clock``, the system's unless given), the services go into bot_data,
    old rows are pruned (then daily) and each feature's on_startup runs; the store closes
    on the way out, whatever failed.
    """
    await connect(application, stop)
    try:
        async with await Store.open(config.storage.path, clock=clock) as store:
            services = Services(config=config, store=store, commands=COMMANDS)
            install(application, services)
            await prune(services)
            if application.job_queue is not None:
                application.job_queue.run_repeating(
                    prune_job, interval=DAY, first=DAY, name="storage.prune"
                )
            for feature in FEATURES:
                await feature.on_startup(application)
            await application.start()
            try:
                yield services
            finally:
                await application.stop()
    finally:
        await application.shutdown()


async def run(config: Config, stop: asyncio.Event) -> None:
    """Run the bot with the durable pump until ``stop`` is set.

    The database's lock comes first: a second bot on it (``pollbot run`` or the demo) stops
    at once with DatabaseInUse instead of both retrying getUpdates's "Conflict" forever.
    """
    lock = lock_database(config.storage.path)
    try:
        await _run_locked(config, stop)
    finally:
        lock.release()


def _reload_on_sighup(application: PTBApplication) -> None:
    """SIGHUP reads the content files again, as /reload does (each mistake is logged)."""
    loop = asyncio.get_running_loop()
    reloads: set[asyncio.Task[Any]] = set()

    def reload() -> None:
        task = loop.create_task(articles.library.reload(application))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
        loop.add_signal_handler(signal.SIGHUP, reload)


async def _run_locked(config: Config, stop: asyncio.Event) -> None:
    application = build_application(config)
    try:
        async with running(application, config, stop=stop) as services:
            await _serve(application, config, services, stop)
    except StoppedBeforeStart:
        log.info("pollbot stopped before the Bot API could be reached")


async def _serve(
    application: PTBApplication, config: Config, services: Services, stop: asyncio.Event
) -> None:
    """Run the pump (long polling, or behind the webhook server) until ``stop``."""
    _reload_on_sighup(application)
    me = application.bot.bot
    log.info("pollbot started as @%s (id %s)", me.username, me.id)
    pump = UpdatePump(
        application,
        services.store,
        timeout=config.telegram.poll_timeout,
        on_caught_up=functools.partial(caught_up, application),
    )
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
