"""CSV export: one table with a ``kind`` column, from /export, ``pollbot export`` or code."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.polls import export
from bot.sandbox import Sandbox
from storage import Store
from storage.polls import OptionState, PollState
from tests.cast import ADMIN, GROUP, READER
from tests.harness import bot_harness, run_cli


def _state(poll_id: str, counts: list[int], texts: list[str], *, public: bool) -> PollState:
    return PollState(
        poll_id=poll_id,
        question="Best car?",
        options=tuple(
            OptionState(str(i), text, n)
            for i, (text, n) in enumerate(zip(texts, counts, strict=True))
        ),
        total_voters=sum(counts),
        is_closed=False,
        is_anonymous=not public,
    )


async def _fill(path: Path) -> int:
    """A campaign in a channel (anonymous) and a group (public, one option added)."""
    async with await Store.open(path) as store:
        await store.upsert_chat(-100, "channel", "Plant News", "plantnews")
        await store.upsert_chat(-200, "supergroup", "=Fans", None)
        campaign = await store.create_campaign("Best car?", ["Lada", "Volga"], {})
        await store.add_poll(
            campaign.id, -100, 5, _state("p1", [0, 0], ["Lada", "Volga"], public=False)
        )
        await store.add_poll(
            campaign.id, -200, 6, _state("p2", [0, 0], ["Лада", "Волга"], public=True)
        )
        await store.apply_poll_state(_state("p1", [3, 1], ["Lada", "Volga"], public=False))
        await store.apply_poll_state(
            _state("p2", [1, 1, 1], ["Лада", "Волга", "-Chaika"], public=True)
        )
        await store.record_answer("p2", "7", ["0", "1"], [0, 1])
        await store.record_answer("p2", "8", ["2"], [2])
        return int(campaign.id)


async def test_csv_has_counts_per_chat_totals_and_public_votes(tmp_path: Path) -> None:
    campaign_id = await _fill(tmp_path / "db.sqlite3")
    out = io.StringIO()
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        assert await export.write_csv(store, campaign_id, out)
        assert not await export.write_csv(store, 99, io.StringIO())
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == export.COLUMNS
    assert rows[1:] == [
        ["count", "1", "-100", "@plantnews", "p1", "0", "0", "Lada", "3", "4", "0", "", ""],
        ["count", "1", "-100", "@plantnews", "p1", "1", "1", "Volga", "1", "4", "0", "", ""],
        ["count", "1", "-200", "'=Fans", "p2", "0", "0", "Лада", "1", "3", "0", "", ""],
        ["count", "1", "-200", "'=Fans", "p2", "1", "1", "Волга", "1", "3", "0", "", ""],
        ["count", "1", "-200", "'=Fans", "p2", "2", "2", "'-Chaika", "1", "3", "0", "", ""],
        ["total", "1", "", "", "", "0", "", "Lada", "4", "7", "0", "", ""],
        ["total", "1", "", "", "", "1", "", "Volga", "2", "7", "0", "", ""],
        ["total", "1", "", "", "", "2", "", "'-Chaika", "1", "7", "0", "", ""],
        ["vote", "1", "-200", "'=Fans", "p2", "0", "0", "Лада", "", "", "", "7", "0"],
        ["vote", "1", "-200", "'=Fans", "p2", "1", "1", "Волга", "", "", "", "7", "0"],
        ["vote", "1", "-200", "'=Fans", "p2", "2", "2", "'-Chaika", "", "", "", "8", "0"],
    ]


async def test_a_poll_hidden_until_it_closes_has_no_counts_in_the_file_before(
    tmp_path: Path,
) -> None:
    """Issue 12: a hidden poll's counts appear nowhere until it closes, a file included."""
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        campaign = await store.create_campaign(
            "Best car?", ["Lada", "Volga"], {"hide_results_until_closes": True}
        )
        await store.add_poll(
            campaign.id, -100, 5, _state("p1", [2, 1], ["Lada", "Volga"], public=True)
        )
        await store.record_answer("p1", "7", ["0"], [0])
        out = io.StringIO()
        assert await export.write_csv(store, campaign.id, out)
        rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
        assert [row[0] for row in rows] == ["count", "count", "total", "total"]  # no votes
        assert {row[8] for row in rows} == {""} and {row[9] for row in rows} == {"3"}
        await store.close_campaign(campaign.id)
        out = io.StringIO()
        assert await export.write_csv(store, campaign.id, out)
        closed = list(csv.reader(io.StringIO(out.getvalue())))[1:]
        assert [row[8] for row in closed[:2]] == ["2", "1"] and closed[-1][0] == "vote"


async def test_cli_writes_the_chat_exports_bytes_to_a_file(
    tmp_path: Path, offline_config: Path
) -> None:
    campaign_id = await _fill(tmp_path / "db.sqlite3")
    out = io.StringIO()
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await export.write_csv(store, campaign_id, out)
        sent = await export.csv_bytes(store, campaign_id)  # what /export sends
        assert await export.csv_bytes(store, 99) is None
    assert sent is not None and sent == codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
    config = offline_config
    target = tmp_path / "poll.csv"
    argv = ["export", "--config", str(config), "--campaign", str(campaign_id)]
    assert await run_cli(*argv, "--out", str(target)) == 0
    assert target.read_bytes() == sent
    assert await run_cli("export", "--config", str(config), "--campaign", "42") == 1


def test_cli_writes_to_stdout(
    tmp_path: Path, offline_config: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    campaign_id = asyncio.run(_fill(tmp_path / "db.sqlite3"))
    assert main(["export", "--config", str(offline_config), "--campaign", str(campaign_id)]) == 0
    data = capsysbinary.readouterr().out
    assert data.startswith(codecs.BOM_UTF8)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("kind,campaign_id,chat_id") and len(lines) == 12


async def test_hashed_voters_never_show_telegram_ids(sandbox: Sandbox, tmp_path: Path) -> None:
    privacy = 'hash_voters = true\nhash_key = "a-long-secret-key-0123"\n'
    async with bot_harness(sandbox, tmp_path, privacy=privacy) as bot:
        await bot.say(ADMIN, f"/approve {GROUP}")
        await bot.say(ADMIN, f"/newpoll Best car? | Lada | Volga | public {GROUP}")
        [poll] = await bot.store.polls_of(1)
        bot.world.vote(READER, poll.poll_id, [1])
        await bot.drain()
        [message] = await bot.say(ADMIN, "/export 1")
        data = bot.world.file(message["document"]["file_id"]).data
        stored = [a.voter async for a in bot.store.answers(poll.poll_id)]
    assert data is not None
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    [vote] = [r for r in rows if r["kind"] == "vote"]
    assert vote["option"] == "Volga" and len(vote["voter"]) == 32
    assert stored == [vote["voter"]] and str(READER) not in vote["voter"]
