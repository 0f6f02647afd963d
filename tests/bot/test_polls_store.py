"""What the polls store keeps: final counts after a close, closed campaigns, bounded trends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Store
from storage.clock import ManualClock
from storage.polls import OptionState, PollState

DAY = 86400


def _state(poll_id: str, counts: tuple[int, ...], *, closed: bool = False) -> PollState:
    return PollState(
        poll_id=poll_id,
        question="Which lineup?",
        options=tuple(OptionState(str(i), f"option {i}", n) for i, n in enumerate(counts)),
        total_voters=sum(counts),
        is_closed=closed,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "db.sqlite3") as opened:
        yield opened


async def test_closed_poll_keeps_its_final_counts(store: Store) -> None:
    campaign = await store.create_campaign("Q", ["a", "b"], {})
    await store.add_poll(campaign.id, -1, 1, _state("p", (0, 0)))
    await store.apply_poll_state(_state("p", (2, 1), closed=True))
    snapshots = await store.snapshots("p")
    await store.apply_poll_state(_state("p", (9, 9)))  # late, still "open"
    [counts] = await store.counts_of(campaign.id)
    assert [o.voter_count for o in counts.options] == [2, 1] and counts.poll.is_closed
    assert counts.poll.total_voters == 3
    assert await store.snapshots("p") == snapshots


async def test_campaign_closes_when_all_its_polls_are_closed(store: Store) -> None:
    campaign = await store.create_campaign("Q", ["a", "b"], {})
    empty = await store.create_campaign("Nothing sent", ["a"], {})
    await store.add_poll(campaign.id, -1, 1, _state("p1", (0, 0)))
    await store.add_poll(campaign.id, -2, 1, _state("p2", (0, 0)))
    await store.apply_poll_state(_state("p1", (1, 0), closed=True))
    assert await store.close_finished_campaigns() == []
    await store.mark_polls_closed(["p2"])
    assert await store.close_finished_campaigns() == [campaign.id]
    assert await store.close_finished_campaigns() == []
    found = await store.campaign(empty.id)
    assert found is not None and not found.is_closed  # no poll: nothing to finish


async def test_overview_sums_voters_over_chats(store: Store) -> None:
    first = await store.create_campaign("First", ["a", "b"], {})
    second = await store.create_campaign("Second", ["a", "b"], {})
    await store.add_poll(first.id, -1, 1, _state("p1", (0, 0)))
    await store.add_poll(first.id, -2, 1, _state("p2", (0, 0)))
    await store.apply_poll_state(_state("p1", (2, 1)))
    await store.apply_poll_state(_state("p2", (0, 4)))
    await store.close_campaign(second.id, at=1000)
    rows = await store.campaign_overview(closed_since=0)
    assert [(r.campaign.id, r.voters, r.chat_ids) for r in rows] == [
        (second.id, 0, ()),
        (first.id, 7, (-1, -2)),
    ]
    assert [r.campaign.id for r in await store.campaign_overview(closed_since=2000)] == [first.id]


async def test_snapshots_stay_bounded(tmp_path: Path) -> None:
    start = 1_700_000_000 // DAY * DAY
    clock = ManualClock(datetime.fromtimestamp(start, UTC))
    async with await Store.open(tmp_path / "db.sqlite3", clock=clock) as store:
        campaign = await store.create_campaign("Q", ["a"], {})
        await store.add_poll(campaign.id, -1, 1, _state("p", (0,)))
        for step in range(3 * 24 * 12):  # an update every five minutes for three days
            await store.apply_poll_state(_state("p", (step,)))
            clock.advance(300)
        assert await store.thin_snapshots() == 2 * 24 * 11
        points = await store.snapshots("p")
        # The last day keeps every point; the two days before keep the last point of each hour.
        day_ago = (start + 2 * DAY) // 60
        assert len([p for p in points if p.minute >= day_ago]) == 24 * 12
        assert [p.minute % 60 for p in points if p.minute < day_ago] == [55] * 48
        assert await store.thin_snapshots() == 0  # nothing new since the last pass
        clock.advance(40 * DAY)
        await store.thin_snapshots()
        points = await store.snapshots("p")
    assert len(points) == len({p.minute // (24 * 60) for p in points}) == 3  # one a day


async def test_import_answers_for_benchmarks(store: Store) -> None:
    await store.import_answers("p", [(str(n), ["0"], [0]) for n in range(1000)])
    assert await store.answer_count("p") == 1000
