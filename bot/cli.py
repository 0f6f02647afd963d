"""The ``pollbot`` command line: argument parsing only; the work is done elsewhere.

Every mistake is one line on stderr, never a traceback, never the token: usage errors exit
with 2, a command that cannot do its work (no database, a database in use...) with 1, a
token Telegram rejects with 78. Commands
import what they need when they run: ``pollbot run`` never loads the demo's sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from bot.config import Config, ConfigError, describe
from bot.demo import sandbox_cli
from bot.logs import protect, redact, setup_logging
from storage import StorageError, Store
from storage.store import DeadLetter

log = logging.getLogger("pollbot")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        return _fail(f"config error: {exc}", 2)
    except UsageError as exc:
        print(f"pollbot {args.command}: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from telegram.error import InvalidToken  # imported only when a command failed

        if isinstance(exc, InvalidToken):
            return _fail(TOKEN_REJECTED, EXIT_TOKEN_REJECTED)
        # A bug or an outage nobody foresaw: the traceback to the log (redacted), one line.
        log.critical("pollbot %s failed", args.command, exc_info=True)
        return _fail(f"{args.command} failed: {type(exc).__name__}: {exc}", 1)


# A rejected token exits with EX_CONFIG: systemd's RestartPreventExitStatus=78 keeps a
# service from restarting forever with a token that will never work.
EXIT_TOKEN_REJECTED = 78
TOKEN_REJECTED = (
    "the token was rejected by Telegram: check [telegram] token or POLLBOT_TOKEN "
    "(a new one comes from @BotFather)"
)


def _fail(message: str, status: int) -> int:
    """One line on stderr, with every protected secret (the token) masked."""
    first = message.splitlines()[0] if message else ""
    print(f"pollbot: {redact(first)}", file=sys.stderr)
    return status


def _config(path: Path) -> Config:
    """Read the config and protect its token at once: from here on, no log line, error or
    message this process prints can show it."""
    config = Config.from_toml(path)
    protect(config.telegram.token)
    return config


class UsageError(Exception):
    """A command line that asks for something impossible (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, reporting a mistake in one line instead of the usage and the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pollbot", description="Telegram bot: articles, summaries, polls and digests."
    )
    parser.add_argument("--version", action="version", version=f"pollbot {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot")
    _config_option(run)
    _log_level_option(run, "INFO")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate a config file and show what it means")
    check.add_argument("path", type=Path, nargs="?", default=Path("config.toml"))
    check.set_defaults(func=_check_config)

    export = sub.add_parser(
        "export", help="write a poll's results (and public votes) as CSV (see bot/polls/export.py)"
    )
    _config_option(export)
    export.add_argument("--campaign", type=int, required=True, help="the poll id of /polls")
    export.add_argument("--out", "-o", type=Path, help="a file (default: stdout)")
    export.set_defaults(func=_export)

    backup = sub.add_parser("backup", help="copy the database consistently, even while running")
    backup.add_argument("path", type=Path, help="the file to write the copy to")
    _config_option(backup)
    backup.set_defaults(func=_backup)

    _dead_letters_parser(sub)

    demo = sub.add_parser("demo", help="run the whole mission offline against the sandbox")
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("pollbot-demo"),
        help="where the database, chart and config go (default: pollbot-demo)",
    )
    demo.add_argument("--readers", type=_positive_int, default=300, help="simulated subscribers")
    demo.add_argument(
        "--keep", action="store_true", help="keep the sandbox and the bot running afterwards"
    )
    demo.set_defaults(func=_demo)

    sandbox_cli.add_parser(sub)
    return parser


def _dead_letters_parser(sub: Any) -> None:
    letters = sub.add_parser(
        "dead-letters", help="updates the bot could not handle: list, show, replay or drop them"
    )
    actions = letters.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="id, update id, time and error, newest first")
    listing.add_argument("--limit", type=_positive_int, default=100, help="at most this many")
    listing.set_defaults(func=_dead_letters_list)
    _config_option(listing)
    for name, func, help_text in (
        ("show", _dead_letters_show, "one dead letter's update (JSON) and error"),
        ("replay", _dead_letters_replay, "handle the update again once its cause is fixed"),
        ("drop", _dead_letters_drop, "delete a dead letter"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("id", type=int, help="the dead letter's id (see list)")
        _config_option(action)
        action.set_defaults(func=func)
        if name == "replay":
            _log_level_option(action, "CRITICAL")


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", type=Path, default=Path("config.toml"))


def _log_level_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default,
        help=f"{', '.join(LOG_LEVELS)} (default: {default})",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _version() -> str:
    try:
        return metadata.version("pollbot")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _export(args: argparse.Namespace) -> int:
    out: Path | None = args.out
    if out is not None:
        _check_writable_file(out)
    config = _config(args.config)
    from bot.polls.export import export_to

    return asyncio.run(export_to(config, args.campaign, out))


def _check_writable_file(path: Path) -> None:
    """Refuse at once a file name that cannot be written: a folder, or in a missing one."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"no folder {path.parent} to write {path.name} in")


def _check_config(args: argparse.Namespace) -> int:
    """Every check ``pollbot run`` makes at start (the config, then each article file, as
    the articles feature loads them); content mistakes, which ``run`` only logs, fail too."""
    from bot.articles.content import Library

    config = _config(args.path)
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
    from storage.backup import backup

    _check_writable_file(args.path)
    config = _config(args.config)
    result = asyncio.run(backup(config.storage.path, args.path))
    print(f"backup written to {result.path} ({result.size} bytes, schema {result.schema_version})")
    return 0


def _run(args: argparse.Namespace) -> int:
    config = _config(args.config)
    setup_logging(args.log_level)
    from bot.app import run  # takes the database's lock before anything else

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


# -- dead letters ---------------------------------------------------------------------------


def _dead_letters_list(args: argparse.Namespace) -> int:
    letters = asyncio.run(_read_letters(_config(args.config), args.limit))
    if not letters:
        print("no dead letters")
    for letter in letters:
        update = "-" if letter.update_id is None else str(letter.update_id)
        error = letter.error.splitlines()[0] if letter.error else ""
        print(f"#{letter.id}  update {update}  {_when(letter.created_at)}  {error}")
    if len(letters) == args.limit:
        print(f"(the newest {args.limit}: --limit for more)")
    return 0


def _dead_letters_show(args: argparse.Namespace) -> int:
    config = _config(args.config)
    letter = asyncio.run(_read_letter(config, args.id))
    update = "-" if letter.update_id is None else str(letter.update_id)
    print(f"dead letter #{letter.id}: update {update}, {_when(letter.created_at)}")
    print("update:")
    print(_pretty_json(letter.raw))
    print("error:")
    print(letter.error.rstrip("\n"))
    return 0


def _dead_letters_drop(args: argparse.Namespace) -> int:
    config = _config(args.config)
    asyncio.run(_drop_letter(config, args.id))
    print(f"dead letter #{args.id} dropped")
    return 0


def _dead_letters_replay(args: argparse.Namespace) -> int:
    """Replay runs the whole bot for one update: it takes the database's lock like run."""
    from telegram.error import TelegramError

    from storage.lock import lock_database

    config = _config(args.config)
    lock = lock_database(config.storage.path)
    try:
        asyncio.run(_read_letter(config, args.id))  # no bot is started for a wrong id
        setup_logging(args.log_level)
        error = asyncio.run(_replay(config, args.id))
    except TelegramError as exc:  # the bot could not start: Telegram unreachable...
        print(f"pollbot: dead letter #{args.id} not replayed: {exc}", file=sys.stderr)
        return 1
    except LookupError:  # pruned at start: older than [storage] keep_days
        print(f"pollbot: no dead letter #{args.id}: it was older than keep_days", file=sys.stderr)
        return 1
    finally:
        lock.release()
    if error is not None:
        print(
            f"pollbot: dead letter #{args.id} failed again: {error.splitlines()[0]}"
            f" (pollbot dead-letters show {args.id})",
            file=sys.stderr,
        )
        return 1
    print(f"dead letter #{args.id} replayed: its update is handled and stored")
    return 0


async def _replay(config: Config, letter_id: int) -> str | None:
    from bot.app import build_application, running
    from bot.pump import UpdatePump

    application = build_application(config)
    async with running(application, config) as services:
        return await UpdatePump(application, services.store).replay(letter_id)


async def _read_letters(config: Config, limit: int) -> list[DeadLetter]:
    async with await Store.open_existing(config.storage.path) as store:
        result: list[DeadLetter] = await store.dead_letters(limit)
        return result


async def _read_letter(config: Config, letter_id: int) -> DeadLetter:
    async with await Store.open_existing(config.storage.path) as store:
        letter: DeadLetter | None = await store.dead_letter(letter_id)
    if letter is None:
        raise StorageError(f"no dead letter #{letter_id} in {config.storage.path}")
    return letter


async def _drop_letter(config: Config, letter_id: int) -> None:
    async with await Store.open_existing(config.storage.path) as store:
        dropped: bool = await store.drop_dead_letter(letter_id)
    if not dropped:
        raise StorageError(f"no dead letter #{letter_id} in {config.storage.path}")


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text
