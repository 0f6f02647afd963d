"""Benchmark (not a test): what composing a digest costs with a million stored answers.

Twenty campaigns (each posted to two channels and a public group) run for three days: a
million answers in all, counts as ``poll`` updates leave them, one snapshot per poll per
minute (about 260,000), and a previous digest to compare with. Then the digest to a channel
is composed ``--repeat`` times and the median and worst times are printed for each step:

  text   reading counts, previous items and readers, and rendering the HTML messages
         (what a digest costs with ``[digest] charts = false``)
  trend  reading the thinned snapshot series of the charted campaigns
  chart  drawing the PNG (``render_chart``; the bot runs it in a worker thread)

    python bench/digest.py [--repeat 10] [--answers 1000000] [--campaigns 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import timed  # noqa: E402  (bench/ is the script's own directory)

from bot.digests.charts import render_chart  # noqa: E402
from bot.digests.compose import DigestRequest, compose, plan  # noqa: E402
from bot.polls.scope import Audience  # noqa: E402
from storage import Store  # noqa: E402
from storage.clock import ManualClock  # noqa: E402
from storage.digests import DigestItem  # noqa: E402
from storage.polls import OptionState, PollState  # noqa: E402
from storage.snapshots import Snapshot  # noqa: E402

CHATS = ((-1001001, "channel", "plantnews"), (-1001002, "channel", "autonews"),
         (-1002001, "supergroup", None))  # fmt: skip
TARGET = -1001001
DAYS = 3
LINEUPS = ("EVs with KAMAZ", "A partner brand", "Both tracks", "Commercial EVs", "Buses",
           "Light trucks")  # fmt: skip
CHUNK = 100_000


def _state(poll_id: str, question: str, counts: list[int], public: bool) -> PollState:
    options = tuple(OptionState(str(i), LINEUPS[i], n) for i, n in enumerate(counts))
    return PollState(poll_id, question, options, sum(counts), False, is_anonymous=not public)


async def _fill(store: Store, campaigns: int, answers: int, start: int, rng: random.Random) -> int:
    """Store the campaigns, answers, counts and snapshots; return how many snapshots."""
    for number, (chat_id, kind, username) in enumerate(CHATS):
        await store.upsert_chat(chat_id, kind, f"Chat {number}", username)
    snapshots = 0
    per_campaign = answers // campaigns
    for number in range(campaigns):
        question = f"Poll {number + 1}: which lineup should the reborn Moscow plant build?"
        width = 3 + number % 4
        weights = [rng.random() + 0.2 for _ in range(width)]
        campaign = await store.create_campaign(question, LINEUPS[:width], {}, origin=f"b{number}",
                                               article_id=f"article-{number % 4}")  # fmt: skip
        for index, (chat_id, kind, _) in enumerate(CHATS):
            poll_id = f"bench-{number}-{index}"
            public = kind != "channel"
            await store.add_poll(campaign.id, chat_id, number * 10 + index,
                                 _state(poll_id, question, [0] * width, public))  # fmt: skip
            voters = per_campaign if public else per_campaign // 4
            counts = [0] * width
            rows = []
            for voter in range(voters):
                choice = rng.choices(range(width), weights)[0]
                counts[choice] += 1
                if public:
                    rows.append((str(10_000_000 + voter), [str(choice)], [choice]))
                if public and len(rows) == CHUNK:
                    await store.import_answers(poll_id, rows)
                    rows = []
            if rows:
                await store.import_answers(poll_id, rows)
            await store.apply_poll_state(_state(poll_id, question, counts, public))
            history = _history(poll_id, counts, start)
            await store.import_snapshots(history)
            snapshots += len(history)
    return snapshots


def _history(poll_id: str, final: list[int], start: int) -> list[Snapshot]:
    """One snapshot a minute for DAYS days, counts growing towards ``final``."""
    minutes = DAYS * 24 * 60
    first = start // 60
    rows = []
    for step in range(1, minutes + 1):
        counts = {str(i): n * step // minutes for i, n in enumerate(final)}
        rows.append(Snapshot(poll_id, first + step, sum(counts.values()), counts))
    return rows


async def _previous_digest(store: Store, now: int) -> None:
    """A digest sent to the target six hours ago, so the new one shows changes."""
    digest_id = await store.claim_digest(None, TARGET, now - 6 * 3600, at=now - 6 * 3600)
    assert digest_id is not None
    items = []
    for campaign in await store.campaigns(limit=100):
        counts = await store.counts_of(campaign.id)
        total = sum(p.poll.total_voters for p in counts) * 9 // 10
        items.append(DigestItem(campaign.id, total, (("#0", total // 3),), "#1"))
    await store.record_digest_items(digest_id, items)
    await store.mark_digest_sent(digest_id, at=now - 6 * 3600, message_ids=[1])


def _line(name: str, times: list[float]) -> str:
    return f"{name:<6} median {statistics.median(times):8.1f} ms   worst {max(times):8.1f} ms"


async def main(repeat: int, answers: int, campaigns: int) -> None:
    now = int(time.time())
    start = now - DAYS * 86400
    with tempfile.TemporaryDirectory() as folder:
        # The campaigns were created three days ago (the store stamps them with its clock).
        clock = ManualClock(datetime.fromtimestamp(start, UTC))
        async with await Store.open(Path(folder) / "bench.sqlite3", clock=clock) as store:
            began = time.perf_counter()
            snapshots = await _fill(store, campaigns, answers, start, random.Random(5))
            clock.set(datetime.now(UTC))
            await _previous_digest(store, now)
            stored = sum([await store.answer_count(f"bench-{n}-2") for n in range(campaigns)])
            print(f"stored {stored:,} answers and {snapshots:,} snapshots of {campaigns} "
                  f"campaigns in {time.perf_counter() - began:.0f} s")  # fmt: skip

            request = DigestRequest(None, TARGET, "en", ZoneInfo("Europe/Moscow"),
                                    datetime.now(UTC), datetime.now(UTC))  # fmt: skip
            admin = Audience("en", None, admin=True)  # the admin's private digest: everything

            async def text() -> list[str]:
                digest = await compose(store, request, admin, trends=False)
                return [part.text for part in plan(digest, chart=False)]

            async def trend() -> list[str]:  # text() with trends: the difference is theirs
                digest = await compose(store, request, admin, trends=True)
                return [part.text for part in plan(digest, chart=False)]

            digest = await compose(store, request, admin, trends=True)
            charts = [item.chart() for item in digest.campaigns]

            async def chart() -> bytes:
                return await asyncio.to_thread(render_chart, charts, "en",
                                               timezone=request.timezone)  # fmt: skip

            text_times = await timed(repeat, text)
            with_trend = await timed(repeat, trend)
            trend_times = [max(0.0, t - statistics.median(text_times)) for t in with_trend]
            chart_times = await timed(repeat, chart)
            messages = await text()
            png = await chart()
            print(f"digest: {len(digest.campaigns)} campaigns, {len(messages)} messages "
                  f"({sum(map(len, messages)):,} characters), chart {len(png) // 1024} KB, "
                  f"{sum(len(c.trend) for c in charts)} trend points")  # fmt: skip
            print(_line("text", text_times))
            print(_line("trend", trend_times))
            print(_line("chart", chart_times))
            total = statistics.median(with_trend) + statistics.median(chart_times)
            print(f"total  median {total:8.1f} ms (text + trend + chart)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.answers, args.campaigns))
