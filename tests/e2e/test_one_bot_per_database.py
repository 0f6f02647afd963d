"""Two real ``pollbot run`` on one database: the second refuses at once, in one line.

The first bot keeps working, and its import log shows that ``pollbot run`` never loads
the sandbox (only tests and ``pollbot demo`` do).
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from storage.lock import lock_database
from tests.cast import READER
from tests.harness import pollbot_argv, pollbot_env, start_bot, wait_for, write_config

# The Done-when bound: the second bot must have given up within this many seconds.
REFUSAL_SECONDS = 5


def imported(log: str, module: str) -> bool:
    """Whether ``python -X importtime``'s lines in ``log`` show ``module`` (or a submodule)."""
    return re.search(rf"^import time:.*\|\s+{re.escape(module)}(\.|$)", log, re.M) is not None


async def test_a_second_run_on_the_same_database_refuses_at_once(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, sandbox)
    database = tmp_path / "pollbot.sqlite3"
    log = tmp_path / "first.log"
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")  # every import of the first bot
    first = start_bot(config, log)
    monkeypatch.delenv("PYTHONPROFILEIMPORTTIME")
    try:
        await wait_for(
            lambda: "pollbot started as" in log.read_text(encoding="utf-8"), 60, "the first bot"
        )
        second = await asyncio.create_subprocess_exec(
            *pollbot_argv("run", "--config", str(config)),
            cwd=tmp_path,
            env=pollbot_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(second.communicate(), REFUSAL_SECONDS)
        except TimeoutError:
            second.kill()
            await second.wait()
            raise AssertionError(f"the second bot still runs after {REFUSAL_SECONDS} s") from None
        assert second.returncode == 1
        assert (out, err.decode()) == (
            b"",
            f"pollbot: {database} is in use by process {first.pid}\n",
        )

        # The first bot never noticed: it still answers.
        sandbox.world.send(READER, "/start")
        await wait_for(
            lambda: any(m["from"]["is_bot"] for m in sandbox.world.chat(READER)["messages"]),
            30,
            "the first bot to answer",
        )
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0

    text = log.read_text(encoding="utf-8")
    assert imported(text, "bot.app")
    assert not imported(text, "bot.sandbox"), "pollbot run imported the sandbox"
    # Its end released the lock: the next bot may start.
    lock_database(database).release()
