"""Starting ``pollbot run`` when things are wrong: a rejected token, an unreachable Bot API.

Each case runs the real process against the sandbox on loopback and reads what it printed:
a rejected token is one line without the token (at start and while running), and a Bot API
that cannot be reached at start is waited for, not fatal.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bot.cli import EXIT_TOKEN_REJECTED, TOKEN_REJECTED
from bot.sandbox import Sandbox
from tests.cast import READER
from tests.harness import populate, start_bot, wait_for, write_config

WRONG_TOKEN = "424242:WRONG-SECRET-TOKEN-abcdef"


def printed(log: Path) -> str:
    return log.read_text(encoding="utf-8")


@contextlib.contextmanager
def bot_process(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The real ``pollbot run``, killed on the way out if it still runs."""
    process = start_bot(config, log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_token_rejected_at_start_is_one_line_without_the_token(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    telegram = f'token = "{WRONG_TOKEN}"\napi_url = "{sandbox.api_url}"\n'
    log = tmp_path / "bot.log"
    process = start_bot(write_config(tmp_path, sandbox, telegram=telegram), log)
    await wait_for(lambda: process.poll() is not None, 60, "the bot to stop")
    assert process.returncode == EXIT_TOKEN_REJECTED
    assert printed(log) == f"pollbot: {TOKEN_REJECTED}\n"
    assert WRONG_TOKEN.split(":")[1] not in printed(log)


async def test_a_token_rejected_while_running_stops_with_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    with bot_process(write_config(tmp_path, sandbox), log) as process:
        await wait_for(lambda: "pollbot started as" in printed(log), 60, "the bot to start")
        secret = sandbox.token.split(":")[1]
        sandbox.world.token = WRONG_TOKEN  # revoked at @BotFather: every call is now a 401
        await wait_for(lambda: process.poll() is not None, 60, "the bot to stop")
    assert process.returncode == EXIT_TOKEN_REJECTED
    assert printed(log).splitlines()[-1] == f"pollbot: {TOKEN_REJECTED}"
    assert secret not in printed(log)
    assert "Traceback" not in printed(log)


async def test_an_unreachable_bot_api_at_start_is_waited_for(tmp_path: Path) -> None:
    port = free_port()
    later = Sandbox(port=port)
    populate(later.world)
    log = tmp_path / "bot.log"
    config = write_config(tmp_path, later)
    with bot_process(config, log) as process:  # nothing listens there yet
        await wait_for(
            lambda: printed(log).count("the Bot API cannot be reached") >= 2,
            60,
            "two retries",
        )
        assert process.poll() is None, printed(log)
        async with later:  # the Bot API comes back
            await wait_for(lambda: "pollbot started as" in printed(log), 60, "the bot")
            later.world.send(READER, "/start")
            await wait_for(
                lambda: any(m["from"]["is_bot"] for m in later.world.chat(READER)["messages"]),
                30,
                "the bot to answer",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    assert "Traceback" not in printed(log)


async def test_stopping_while_the_bot_api_is_unreachable(tmp_path: Path) -> None:
    unreachable = Sandbox(port=free_port())  # never started
    log = tmp_path / "bot.log"
    with bot_process(write_config(tmp_path, unreachable), log) as process:
        await wait_for(lambda: "cannot be reached" in printed(log), 60, "a retry")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert "stopped before the Bot API could be reached" in printed(log)
