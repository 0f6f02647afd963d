"""What the benchmarks share: timing a piece of async work (not a benchmark itself)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


async def timed(repeat: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds of each of ``repeat`` runs, after one run that warms the caches."""
    await work()  # a running bot has its caches warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return times
