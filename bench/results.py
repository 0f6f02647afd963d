"""Benchmark (not a test): composing /results costs the same at 1,000 and 1,000,000 votes.

A campaign of three polls is stored (two channels, anonymous, and one public group poll),
then answers are inserted straight through ``Store.import_answers`` in big transactions:
first 1,000, then up to 1,000,000 in all. Counts are set as ``poll`` updates set them.
At each size the /results message is composed (``campaign_result`` + ``render_result``,
what the handler does before sending) ``--repeat`` times; the median and 95th percentile
are printed, next to what counting by scanning the answers would cost (what pollbot avoids).

    python bench/results.py [--repeat 300] [--sizes 1000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402  (bench/ is the script's own directory)

from bot.polls.results import campaign_result, render_result  # noqa: E402
from storage import Store  # noqa: E402
from storage.polls import OptionState, PollState  # noqa: E402

QUESTION = "Which lineup should the reborn Moscow plant build?"
OPTIONS = ("EVs with KAMAZ", "Partner brand", "Both tracks", "Commercial EVs")
CHATS = (
    (-1001001, "channel", "plantnews"),
    (-1001002, "channel", "autonews"),
    (-1002001, "supergroup", None),
)
CHUNK = 100_000


def _state(poll_id: str, counts: list[int], voters: int, *, public: bool) -> PollState:
    return PollState(
        poll_id=poll_id,
        question=QUESTION,
        options=tuple(
            OptionState(str(i), text, n)
            for i, (text, n) in enumerate(zip(OPTIONS, counts, strict=True))
        ),
        total_voters=voters,
        is_closed=False,
        is_anonymous=not public,
    )


async def _setup(store: Store) -> tuple[int, list[str]]:
    campaign = await store.create_campaign(QUESTION, OPTIONS, {}, origin="bench")
    poll_ids = []
    for number, (chat_id, kind, username) in enumerate(CHATS):
        await store.upsert_chat(chat_id, kind, f"Chat {number}", username)
        poll_id = f"bench-{number}"
        await store.add_poll(
            campaign.id,
            chat_id,
            number + 1,
            _state(poll_id, [0] * len(OPTIONS), 0, public=kind != "channel"),
        )
        poll_ids.append(poll_id)
    return campaign.id, poll_ids


async def _grow(
    store: Store, poll_ids: list[str], start: int, stop: int, counts: list[int], rng: random.Random
) -> None:
    """Answers number ``start`` to ``stop`` in the public poll, and every poll's counts."""
    public = poll_ids[-1]
    for low in range(start, stop, CHUNK):
        rows = []
        for voter in range(low, min(stop, low + CHUNK)):
            choice = rng.randrange(len(OPTIONS))
            counts[choice] += 1
            rows.append((str(10_000_000 + voter), [str(choice)], [choice]))
        await store.import_answers(public, rows)
    for poll_id in poll_ids:
        is_public = poll_id == public
        await store.apply_poll_state(_state(poll_id, counts, stop, public=is_public))


async def main(sizes: list[int], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        async with await Store.open(path) as store:
            campaign_id, poll_ids = await _setup(store)
            counts = [0] * len(OPTIONS)
            rng = random.Random(1)
            stored = 0
            print(
                f"{'answers':>10}  {'fill s':>7}  {'/results median':>15}  {'p95':>8}"
                f"  {'scan answers':>12}  {'db MB':>6}"
            )
            for size in sizes:
                started = time.perf_counter()
                await _grow(store, poll_ids, stored, size, counts, rng)
                fill = time.perf_counter() - started
                stored = size

                async def compose() -> str:
                    result = await campaign_result(store, campaign_id)
                    assert result is not None
                    return render_result(result, "en")

                times = await timed(repeat, compose)
                scan = await timed(3, lambda: store.answer_count(poll_ids[-1]))
                assert (await compose()).count("(") >= len(OPTIONS)
                megabytes = path.stat().st_size / 1e6 + _wal_size(path)
                print(
                    f"{size:>10,}  {fill:>7.1f}  {statistics.median(times):>12.3f} ms"
                    f"  {_p95(times):>5.3f} ms  {statistics.median(scan):>9.1f} ms"
                    f"  {megabytes:>6.1f}"
                )


def _p95(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.95) - 1]


def _wal_size(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.repeat))
