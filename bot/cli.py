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
from bot.demo import sandbox_cli
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

    export = sub.add_parser(
        "export", help="write a poll's results (and public votes) as CSV (see bot/export.py)"
    )
    export.add_argument("--config", "-c", type=Path, default=Path("config.toml"))
    export.add_argument("--campaign", type=int, required=True, help="the poll id of /polls")
    export.add_argument("--out", "-o", type=Path, help="a file (default: stdout)")
    export.set_defaults(func=_export)

    backup = sub.add_parser("backup", help="copy the database consistently, even while running")
    backup.add_argument("path", type=Path, help="where to write the copy")
    backup.add_argument("--config", "-c", type=Path, default=Path("config.toml"))
    backup.set_defaults(func=_backup)

    demo = sub.add_parser("demo", help="run the whole mission offline against the sandbox")
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("pollbot-demo"),
        help="where the database, chart and config go (default: pollbot-demo)",
    )
    demo.add_argument("--readers", type=int, default=300, help="simulated subscribers")
    demo.add_argument(
        "--keep", action="store_true", help="keep the sandbox and the bot running afterwards"
    )
    demo.set_defaults(func=_demo)

    sandbox_cli.add_parser(sub)
    return parser


def _export(args: argparse.Namespace) -> int:
    config = Config.from_toml(args.config)
    from bot.polls.export import export_to

    return asyncio.run(export_to(config, args.campaign, args.out))


def _check_config(args: argparse.Namespace) -> int:
    """Every check ``pollbot run`` makes at start (the config, then each article file, as
    the articles feature loads them); content mistakes, which ``run`` only logs, fail too."""
    from bot.articles.content import Library

    config = Config.from_toml(args.path)
    library = Library.load(config.bot.content_dir)
    for error in library.errors:
        print(f"pollbot: content error: {error}", file=sys.stderr)
    if library.errors:
        return 1
    print(f"{args.path}: OK")
    for line in describe(config):
        print(f"  {line}")
    print(f"  articles:   {len(library.articles)}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.run import main as demo_main

    return demo_main(args.dir, readers=args.readers, keep=args.keep)


def _backup(args: argparse.Namespace) -> int:
    from storage import StorageError
    from storage.backup import backup

    config = Config.from_toml(args.config)
    try:
        result = asyncio.run(backup(config.storage.path, args.path))
    except StorageError as exc:
        print(f"pollbot: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {result.path} ({result.size} bytes, schema {result.schema_version})")
    return 0


def _run(args: argparse.Namespace) -> int:
    config = Config.from_toml(args.config)
    setup_logging(args.log_level.upper())
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
