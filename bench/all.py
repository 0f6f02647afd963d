"""Benchmark (not a test): every ingestion, fan-out and memory benchmark in one run.

Runs, one after the other on this machine, each benchmark as its own process and prints
their reports one under the other, so that the figures of one run sit side by side:
  ingest  - bench/ingest.py: the pump (fast path), the PTB-only pump, the bare client, the
            PTB parse bound, and the webhook against its own bare /healthz;
  fanout  - bench/fanout.py: a /post to 50 channels under the flood limits;
  memory  - bench/memory.py: resident size after 10,000 and 1,000,000 answers.

    python bench/all.py [--quick]

``--quick`` runs each on a tiny workload (what tests/test_bench.py checks).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FULL = {
    "ingest": ["--modes", "pump,pump-ptb,ceiling,parse,webhook", "--rounds", "2"],
    "fanout": ["--channels", "50", "--rounds", "3"],
    "memory": ["--checkpoints", "10000,1000000"],
}
QUICK = {
    "ingest": ["--modes", "pump,ceiling,webhook", "--answers", "300", "--users", "60"],
    "fanout": ["--channels", "3", "--rounds", "1"],
    "memory": ["--checkpoints", "200,600", "--voters", "100"],
}


def run(name: str, args: list[str]) -> str:
    """One benchmark's report (its stdout), with how long it took."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    took = time.monotonic() - started
    return f"== {name} ({' '.join(args)}; {took:.0f} s)\n{done.stdout.rstrip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads (a smoke run)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    for name, bench_args in plan.items():
        print(run(name, bench_args), flush=True)
        print(flush=True)


if __name__ == "__main__":
    main()
