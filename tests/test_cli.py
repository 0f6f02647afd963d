"""The ``pollbot`` command line: ``--version``, and every mistake is one line, no traceback.

Usage errors exit with 2 before any work is done; a command that cannot do its work
(no database...) exits with 1.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from bot.cli import main


def pollbot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI as the ``pollbot`` script does: its exit status, stdout and stderr."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse's own way out
        status = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert pollbot(capsys, "--version") == (0, f"pollbot {metadata.version('pollbot')}\n", "")


def test_export_to_a_missing_folder(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "poll.csv"
    status, out, err = pollbot(
        capsys, "export", "--config", str(offline_config), "--campaign", "1", "--out", str(target)
    )
    assert (status, out) == (2, "")
    assert one_line(err) == f"pollbot export: no folder {target.parent} to write poll.csv in"
    assert not target.parent.exists()


def test_export_to_a_folder(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    status, _, err = pollbot(
        capsys,
        "export",
        "--config",
        str(offline_config),
        "--campaign",
        "1",
        "--out",
        str(tmp_path),
    )
    assert status == 2
    assert one_line(err) == f"pollbot export: {tmp_path} is a folder: give a file name"


@pytest.mark.parametrize("command", ["run", "dead-letters replay 1"])
def test_a_bad_log_level(
    capsys: pytest.CaptureFixture[str], offline_config: Path, command: str
) -> None:
    status, out, err = pollbot(
        capsys, *command.split(), "--config", str(offline_config), "--log-level", "loud"
    )
    assert (status, out) == (2, "")
    line = one_line(err)
    assert line.startswith(f"pollbot {command.rsplit(' ', 1)[0]}: argument --log-level: ")
    assert "'LOUD'" in line and "INFO" in line


def test_demo_with_no_readers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = pollbot(capsys, "demo", "--dir", str(tmp_path / "demo"), "--readers", "0")
    assert status == 2
    assert one_line(err) == (
        "pollbot demo: argument --readers: must be at least 1, not 0 (see pollbot demo --help)"
    )
    assert not (tmp_path / "demo").exists()


def test_backup_to_a_folder(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    status, _, err = pollbot(capsys, "backup", str(tmp_path), "--config", str(offline_config))
    assert status == 2
    assert one_line(err) == f"pollbot backup: {tmp_path} is a folder: give a file name"


def test_backup_to_a_missing_folder(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "copy.sqlite3"
    status, _, err = pollbot(capsys, "backup", str(target), "--config", str(offline_config))
    assert status == 2
    assert one_line(err) == f"pollbot backup: no folder {target.parent} to write copy.sqlite3 in"


def test_backup_without_a_database(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    status, _, err = pollbot(
        capsys, "backup", str(tmp_path / "copy"), "--config", str(offline_config)
    )
    assert status == 1
    assert one_line(err) == f"pollbot: no database at {tmp_path / 'db.sqlite3'}"


@pytest.mark.parametrize("command", ["export --campaign 1", "dead-letters list"])
def test_a_file_that_is_not_a_database_is_one_line(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path, command: str
) -> None:
    (tmp_path / "db.sqlite3").write_text("not a database\n", encoding="utf-8")
    status, out, err = pollbot(capsys, *command.split(), "--config", str(offline_config))
    assert (status, out) == (1, "")
    expected = (
        f"pollbot: cannot use the database {tmp_path / 'db.sqlite3'}: file is not a database;"
        " it is not a pollbot database, or it is damaged: restore a backup"
    )
    assert one_line(err) == expected


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        ("export --campaign x", "pollbot export: argument --campaign: invalid int value: 'x'"),
        ("dead-letters show abc", "pollbot dead-letters show: argument id: invalid int value"),
        ("dead-letters", "pollbot dead-letters: the following arguments are required: ACTION"),
        ("nonsense", "pollbot: argument COMMAND: invalid choice: 'nonsense'"),
    ],
)
def test_argument_mistakes_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: str, start: str
) -> None:
    status, out, err = pollbot(capsys, *argv.split())
    assert (status, out) == (2, "")
    assert one_line(err).startswith(start)


def test_a_missing_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    status, _, err = pollbot(capsys, "run", "--config", str(missing))
    assert status == 2
    line = one_line(err)
    assert line.startswith("pollbot: config error: ") and str(missing) in line


def test_a_file_that_is_not_a_database(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    (tmp_path / "db.sqlite3").write_text("not a database\n", encoding="utf-8")
    status, out, err = pollbot(capsys, "dead-letters", "list", "--config", str(offline_config))
    assert (status, out) == (1, "")
    assert one_line(err).startswith(f"pollbot: cannot use the database {tmp_path / 'db.sqlite3'}")


async def test_a_bot_started_without_the_cli_takes_the_lock_too(offline_config: Path) -> None:
    """The demo runs ``bot.app.run`` itself: a second bot on its database must stop at once,
    as a second ``pollbot run`` does, before it starts anything."""
    import asyncio

    from bot.app import run
    from bot.config import Config
    from storage.lock import DatabaseInUse, lock_database

    settings = Config.from_toml(offline_config, env={})
    held = lock_database(settings.storage.path)  # the demo's bot, already running
    try:
        with pytest.raises(DatabaseInUse, match="is in use by process"):
            await run(settings, asyncio.Event())
    finally:
        held.release()


def test_a_damaged_database_is_refused_in_one_line(tmp_path: Path) -> None:
    """What ``pollbot run`` (and every command) opens a database with: a StorageError,
    printed as one line by the CLI, never sqlite3's traceback."""
    import asyncio

    from storage import StorageError, Store

    (tmp_path / "db.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(StorageError) as caught:
        asyncio.run(Store.open(tmp_path / "db.sqlite3"))
    assert str(caught.value).startswith(f"cannot use the database {tmp_path / 'db.sqlite3'}: ")
    assert "\n" not in str(caught.value)


def test_a_database_from_a_newer_pollbot_names_the_file(
    capsys: pytest.CaptureFixture[str], offline_config: Path, tmp_path: Path
) -> None:
    import sqlite3

    database = tmp_path / "db.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA user_version = 999")
    status, out, err = pollbot(capsys, "dead-letters", "list", "--config", str(offline_config))
    assert (status, out) == (1, "")
    assert one_line(err).startswith(f"pollbot: {database}: the database is at schema version 999")
