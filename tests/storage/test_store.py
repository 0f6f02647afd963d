"""The store: migrations, the batch transaction, idempotent writes of polls and answers."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import storage.migrate
from storage import StorageError, Store
from storage.clock import Clock, ManualClock
from storage.deferred import DEFERRABLE
from storage.polls import OptionState, PollState
from storage.store import Pruned

DAY = 24 * 3600


def state(poll_id: str, counts: tuple[int, ...], *, closed: bool = False) -> PollState:
    return PollState(
        poll_id=poll_id,
        question="Which lineup?",
        options=tuple(OptionState(str(i), f"option {i}", c) for i, c in enumerate(counts)),
        total_voters=sum(counts),
        is_closed=closed,
    )


async def test_new_database_ends_on_the_latest_schema(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        version = await store._scalar("PRAGMA user_version")
        mode = await store._scalar("PRAGMA journal_mode")
        fks = await store._scalar("PRAGMA foreign_keys")
        sync = await store._scalar("PRAGMA synchronous")
    assert version == storage.migrate.migrations()[-1][0]
    assert (mode, fks, sync) == ("wal", 1, 2)


async def test_old_database_is_migrated_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage.migrate.migrations()
    monkeypatch.setattr(storage.migrate, "migrations", lambda: real[:1])
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        await store.set_offset(41)
    extra = (len(real) + 1, "999_test.sql", "CREATE TABLE extra (x INTEGER);\n")
    monkeypatch.setattr(storage.migrate, "migrations", lambda: [*real, extra])
    async with await Store.open(path) as store:
        assert await store._scalar("PRAGMA user_version") == len(real) + 1
        assert await store.offset() == 41
        assert await store._scalar("SELECT COUNT(*) FROM extra") == 0


async def test_failed_migration_leaves_the_version_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage.migrate.migrations()
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path):
        pass
    broken = (
        len(real) + 1,
        "999_broken.sql",
        "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    )
    monkeypatch.setattr(storage.migrate, "migrations", lambda: [*real, broken])
    with pytest.raises(StorageError, match=r"999_broken\.sql"):
        await Store.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(real)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables


async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StorageError, match="newer than this pollbot"):
        await Store.open(path)


async def test_batch_commits_writes_and_offset_together(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        with pytest.raises(RuntimeError):
            async with store.batch():
                await store.record_answer("p1", "7", ["0"], [0])
                await store.set_offset(10)
                raise RuntimeError("crash before commit")
        assert await store.offset() is None
        assert await store.answer_count("p1") == 0
        async with store.batch():
            await store.record_answer("p1", "7", ["0"], [0])
            await store.set_offset(10)
    async with await Store.open(path) as store:
        assert await store.offset() == 10
        assert await store.answer_count("p1") == 1


async def test_update_scope_undoes_only_the_failed_update(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        async with store.batch():
            await store.record_answer("p1", "1", ["0"], [0])
            with pytest.raises(ValueError):
                async with store.update_scope():
                    await store.record_answer("p1", "2", ["1"], [1])
                    raise ValueError("handler failed")
            await store.record_answer("p1", "3", ["1"], [1])
        voters = [a.voter async for a in store.answers("p1")]
    assert voters == ["1", "3"]


async def test_checkpoint_makes_earlier_writes_durable_inside_a_batch(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        with pytest.raises(RuntimeError):
            async with store.batch():
                async with store.update_scope():
                    await store.record_sent("u1:post", -100, 5)
                    await store.record_answer("p1", "9", ["0"], [0])
                raise RuntimeError("crash")
        assert await store.sent("u1:post") is not None
        assert await store.answer_count("p1") == 0


async def test_writes_from_another_task_wait_for_the_batch(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        order: list[str] = []

        async def job() -> None:
            await store.audit(1, "digest")
            order.append("job")

        async with store.batch():
            task = asyncio.create_task(job())
            await asyncio.sleep(0.05)
            order.append("batch")
        await task
        assert order == ["batch", "job"]
        assert [e.action for e in await store.audit_entries()] == ["digest"]


async def test_only_the_listed_statements_may_be_queued(tmp_path: Path) -> None:
    """A statement whose order against the queued ones nobody checked is refused."""
    unlisted = "DELETE FROM answers WHERE poll_id = ?"
    assert unlisted not in DEFERRABLE
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        async with store.batch():
            await store.record_answer("p1", "1", ["0"], [0])
            with pytest.raises(AssertionError, match="DEFERRABLE"):
                await store._write_one(unlisted, ("p1",))
            with pytest.raises(AssertionError, match="DEFERRABLE"):
                await store._write_many(unlisted, [("p1",)])
        with pytest.raises(AssertionError, match="DEFERRABLE"):
            await store._write_one(unlisted, ("p1",))  # outside a batch too
        assert await store.answer_count("p1") == 1


async def test_prune_deletes_old_ledger_dead_letters_and_audit_and_keeps_young(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    async with await Store.open(tmp_path / "db.sqlite3", clock=clock) as store:
        await store.record_sent("u1:old", -100, 1)
        await store.add_dead_letter(1, {"update_id": 1}, "old")
        await store.audit(7, "old")
        clock.advance(10 * DAY)
        await store.record_sent("u2:young", -100, 2)
        await store.add_dead_letter(2, {"update_id": 2}, "young")
        await store.audit(7, "young")
        clock.advance(25 * DAY)  # the old rows are 35 days old, the young ones 25

        assert await store.prune(30 * DAY) == Pruned(sent=1, dead_letters=1, audit_log=1)

        assert await store.sent("u1:old") is None and await store.sent("u2:young") is not None
        assert [d.error for d in await store.dead_letters()] == ["young"]
        assert [e.action for e in await store.audit_entries()] == ["young"]
        assert await store.prune(30 * DAY) == Pruned(0, 0, 0)


async def test_answers_upsert_and_retract(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.record_answer("p1", "5", ["a"], [0])
        await store.record_answer("p1", "5", ["b", "c"], [1, 2])
        await store.record_answer("p1", "5", ["b", "c"], [1, 2])
        answers = [a async for a in store.answers("p1")]
        assert [(a.voter, a.option_ids, a.positions) for a in answers] == [
            ("5", ("b", "c"), (1, 2))
        ]
        await store.record_answer("p1", "5", [], [])
        assert await store.answer_count("p1") == 0


async def test_poll_state_keeps_latest_counts_and_new_options(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        campaign = await store.create_campaign("Which lineup?", ["a", "b"], {}, origin="u1")
        again = await store.create_campaign("Which lineup?", ["a", "b"], {}, origin="u1")
        assert again.id == campaign.id
        await store.add_poll(campaign.id, -100, 7, state("p1", (0, 0)))
        await store.apply_poll_state(state("p1", (3, 1)))
        await store.apply_poll_state(state("p1", (3, 2, 4)))
        await store.apply_poll_state(state("p1", (3, 2, 4)))
        [counts] = await store.counts_of(campaign.id)
        assert [o.voter_count for o in counts.options] == [3, 2, 4]
        assert counts.poll.total_voters == 9 and counts.poll.chat_id == -100
        snapshots = await store.snapshots("p1")
        assert len(snapshots) == 1 and snapshots[0].counts == {"0": 3, "1": 2, "2": 4}
        await store.apply_poll_state(state("p1", (3, 2, 4), closed=True))
        await store.apply_poll_state(state("p1", (3, 2, 4), closed=False))
        poll = await store.poll("p1")
        assert poll is not None and poll.is_closed


async def test_poll_seen_before_it_was_recorded_is_adopted(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.apply_poll_state(state("p9", (2, 5)))
        campaign = await store.create_campaign("Which lineup?", ["a", "b"], {})
        await store.add_poll(campaign.id, -100, 8, state("p9", (0, 0)))
        [counts] = await store.counts_of(campaign.id)
        assert [o.voter_count for o in counts.options] == [2, 5]


async def test_queued_writes_are_read_back_and_dropped_with_a_failed_update(
    tmp_path: Path,
) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        async with store.batch():
            async with store.update_scope():
                await store.record_answer("p1", "1", ["0"], [0])
                assert await store.answer_count("p1") == 1  # the owner reads its writes
            with pytest.raises(ValueError):
                async with store.update_scope():
                    await store.record_answer("p1", "2", ["0"], [0])  # queued only
                    raise ValueError("fails before anything ran")
            with pytest.raises(ValueError):
                async with store.update_scope():
                    await store.record_answer("p1", "3", ["0"], [0])
                    assert await store.answer_count("p1") == 2  # ran, under a savepoint
                    raise ValueError("fails after its SQL ran")
            async with store.update_scope():
                await store.record_answer("p1", "4", ["1"], [1])
                await store.record_answer("p1", "1", [], [])  # retraction
        voters = [a.voter async for a in store.answers("p1")]
    assert voters == ["4"]


async def test_other_tasks_do_not_see_or_run_the_batchs_queued_writes(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        seen: list[int] = []

        async def reader() -> None:
            seen.append(await store.answer_count("p1"))

        async with store.batch():
            await store.record_answer("p1", "1", ["0"], [0])
            await asyncio.create_task(reader())
            assert await store.answer_count("p1") == 1
        assert seen == [0]


# A vote (poll, voter, chosen options; [] retracts) or a poll state (poll, counts, closed).
ANSWER = st.tuples(
    st.just("answer"),
    st.sampled_from(["p1", "p2"]),
    st.sampled_from(["1", "2", "3"]),
    st.lists(st.integers(0, 2), max_size=2, unique=True),
)
STATE = st.tuples(
    st.just("state"),
    st.sampled_from(["p1", "p2"]),
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
    st.booleans(),
)
TABLES = {
    "polls": "SELECT poll_id, is_closed, total_voters FROM polls ORDER BY 1",
    "poll_options": "SELECT poll_id, persistent_id, voter_count FROM poll_options ORDER BY 1, 2",
    "answers": "SELECT poll_id, voter, option_ids, positions FROM answers ORDER BY 1, 2",
    "snapshots": "SELECT poll_id, minute, total, counts FROM snapshots ORDER BY 1, 2",
}


async def _apply(store: Store, event: tuple[Any, ...]) -> None:
    if event[0] == "answer":
        _, poll_id, voter, chosen = event
        await store.record_answer(poll_id, voter, [str(i) for i in chosen], chosen)
    else:
        _, poll_id, counts, closed = event
        await store.apply_poll_state(state(poll_id, counts, closed=closed))


class TickingClock(Clock):
    """Each reading a minute after the last: every poll state gets a snapshot of its own."""

    def __init__(self) -> None:
        self._minutes = itertools.count(1_800_000_000, 60)

    def time(self) -> float:
        return float(next(self._minutes))


async def _tables(path: Path, events: list[tuple[Any, ...]], batch_size: int | None) -> Any:
    async with await Store.open(path, clock=TickingClock()) as store:
        if batch_size is None:  # each write commits on its own
            for event in events:
                await _apply(store, event)
        else:  # as the pump does: one transaction per batch, a scope per update
            for start in range(0, len(events), batch_size):
                async with store.batch():
                    for event in events[start : start + batch_size]:
                        async with store.update_scope():
                            await _apply(store, event)
        return {name: [tuple(r) for r in await store._all(sql)] for name, sql in TABLES.items()}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(ANSWER, STATE), max_size=30), st.integers(1, 12))
def test_a_batch_stores_what_the_same_updates_store_one_by_one(
    events: list[tuple[Any, ...]], batch_size: int
) -> None:
    """Queued writes run grouped by statement; closes and late states keep their effect."""

    async def both() -> tuple[Any, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            single = await _tables(Path(tmp) / "single.sqlite3", events, None)
            batched = await _tables(Path(tmp) / "batched.sqlite3", events, batch_size)
        return single, batched

    single, batched = asyncio.run(both())
    assert batched == single


async def test_composed_articles_are_numbered_after_every_id_taken(tmp_path: Path) -> None:
    fields: dict[str, Any] = dict(
        title="T", language="en", body="b", source="text", source_url=None,
        image_file_id=None, image=None, created_by=1,
    )  # fmt: skip
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        assert await store.add_article(**fields, origin="u1") == "a-1"
        async with store.write() as conn:  # an id further on (e.g. restored from a backup)
            await conn.execute("UPDATE articles SET id = 'a-7'")
        assert await store.add_article(**fields, origin="u2") == "a-8"
