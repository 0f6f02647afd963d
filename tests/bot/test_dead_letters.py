"""``pollbot dead-letters``: a quarantined update is listed, shown, replayed once its cause
is fixed (its effect stored, the dead letter gone), or dropped.

The cause used here is a real one: Telegram answers 500 while a handler sends, so the
handler fails, its writes are rolled back and the update is quarantined. When Telegram
answers again, the replay sends and stores what the update asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.cast import READER
from tests.harness import BotHarness, run_cli

ARTICLE = "moscow-plant-reboot"
TITLE = "Moscow Plant Reboot"


@pytest.fixture(autouse=True)
def keep_the_test_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """``replay`` sets up logging for its process: here the test run's log stays."""
    monkeypatch.setattr("bot.cli.setup_logging", lambda level: None)


@pytest.fixture(params=[True, False], ids=["fast-path", "ptb-path"])
def bot(bot: BotHarness, request: pytest.FixtureRequest) -> BotHarness:
    """Every test here runs twice: votes by the fast path (bot/fastpath.py), and by PTB."""
    bot.pump.fast_path = request.param
    return bot


def config_of(bot: BotHarness) -> str:
    return str(bot.config.storage.path.parent / "config.toml")


async def quarantined_summary(bot: BotHarness, fault: str = "500") -> int:
    """A reader asks for a summary while Telegram refuses to send it: one dead letter."""
    bot.world.fault(fault, method="sendMessage", chat_id=READER)
    replies = await bot.say(READER, f"/summary {ARTICLE}")
    assert summaries(replies) == []
    [letter] = await bot.store.dead_letters()
    assert letter.error.startswith("handler failed: ")
    assert await bot.store.summary_readers(ARTICLE) == 0
    return int(letter.id)


def summaries(messages: list[dict[str, Any]]) -> list[str]:
    """The summaries of the article among the bot's messages."""
    return [
        m["text"]
        for m in messages
        if m.get("from", {}).get("is_bot") and m.get("text", "").startswith(TITLE)
    ]


async def test_replay_stores_a_quarantined_update_once_its_cause_is_fixed(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    letter_id = await quarantined_summary(bot)
    bot.new_messages(READER)
    capsys.readouterr()

    # Telegram answers again: the cause is gone.
    assert await run_cli("dead-letters", "replay", str(letter_id), "--config", config_of(bot)) == 0

    assert f"dead letter #{letter_id} replayed" in capsys.readouterr().out
    assert await bot.store.summary_readers(ARTICLE) == 1
    assert await bot.store.dead_letters() == []
    assert len(summaries(bot.new_messages(READER))) == 1
    # Replaying again finds nothing: the letter went with the update's writes.
    assert await run_cli("dead-letters", "replay", str(letter_id), "--config", config_of(bot)) == 1
    assert (
        capsys.readouterr().err
        == f"pollbot: no dead letter #{letter_id} in {bot.config.storage.path}\n"
    )
    assert await bot.store.summary_readers(ARTICLE) == 1


async def test_a_replay_that_fails_again_keeps_the_letter_with_the_new_error(
    bot: BotHarness,
) -> None:
    letter_id = await quarantined_summary(bot, fault="500")
    [before] = await bot.store.dead_letters()

    bot.world.fault("403", method="sendMessage", chat_id=READER)
    reason = await bot.pump.replay(letter_id)

    assert reason is not None and reason.startswith("handler failed: Forbidden")
    [after] = await bot.store.dead_letters()
    assert (after.id, after.raw, after.update_id) == (before.id, before.raw, before.update_id)
    assert after.error.splitlines()[0] == reason != before.error.splitlines()[0]
    assert await bot.store.summary_readers(ARTICLE) == 0

    assert await bot.pump.replay(letter_id) is None
    assert await bot.store.dead_letters() == []
    assert await bot.store.summary_readers(ARTICLE) == 1
    with pytest.raises(LookupError):
        await bot.pump.replay(letter_id)


async def test_list_show_and_drop(bot: BotHarness, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_of(bot)
    assert await run_cli("dead-letters", "list", "--config", config) == 0
    assert capsys.readouterr().out == "no dead letters\n"
    bot.world.raw({"poll": {"id": "no-such-fields"}})
    await bot.drain()
    [letter] = await bot.store.dead_letters()

    assert await run_cli("dead-letters", "list", "--config", config) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"#{letter.id}  update {letter.update_id}  ")
    assert line.endswith(letter.error.splitlines()[0]) and "cannot parse" in line

    assert await run_cli("dead-letters", "show", str(letter.id), "--config", config) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown.split("update:\n", 1)[1].split("\nerror:\n", 1)[0]) == json.loads(
        letter.raw
    )
    assert shown.split("\nerror:\n", 1)[1] == letter.error.rstrip("\n") + "\n"

    assert await run_cli("dead-letters", "drop", str(letter.id), "--config", config) == 0
    assert await bot.store.dead_letters() == []
    for action in ("show", "drop", "replay"):
        assert await run_cli("dead-letters", action, str(letter.id), "--config", config) == 1
        [error] = capsys.readouterr().err.splitlines()
        assert error.endswith(f"no dead letter #{letter.id} in {bot.config.storage.path}")


def test_dead_letters_without_a_database(
    tmp_path: Path, offline_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dead-letters", "list", "--config", str(offline_config)]) == 1
    assert capsys.readouterr().err == f"pollbot: no database at {tmp_path / 'db.sqlite3'}\n"
    assert not (tmp_path / "db.sqlite3").exists()
