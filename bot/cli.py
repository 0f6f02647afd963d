"""The ``pollbot`` command line: argument parsing only; the work is done elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, describe
from bot.logs import setup_logging

log = logging.getLogger("pollbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"pollbot: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pollbot", description="Telegram bot: articles, summaries, polls and digests."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot")
    run.add_argument("--config", "-c", type=Path, default=Path("config.toml"))
    run.add_argument("--log-level", default="INFO")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate a config file and show what it means")
    check.add_argument("path", type=Path, nargs="?", default=Path("config.toml"))
    check.set_defaults(func=_check_config)
    return parser


def _check_config(args: argparse.Namespace) -> int:
    config = Config.from_toml(args.path)
    print(f"{args.path}: OK")
    for line in describe(config):
        print(f"  {line}")
    return 0


def _run(args: argparse.Namespace) -> int:
    config = Config.from_toml(args.config)
    setup_logging(args.log_level.upper(), secrets=[config.telegram.token])
    from bot.app import run

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _request_stop, stop, signum)
        await run(config, stop)

    asyncio.run(main())
    return 0


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    log.info(
        "%s received: finishing the batch in hand, then stopping", signal.Signals(signum).name
    )
    stop.set()
