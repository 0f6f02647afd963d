"""The benchmarks still run: each script on a tiny workload, checked for its report.

No figure is asserted (performance is measured by the benchmarks themselves, never by
tests); this only keeps the scripts from rotting as the code they measure changes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ROOT


def bench(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_ingest_reports_every_mode_and_the_ratios() -> None:
    out = bench("ingest.py", "--answers", "300", "--users", "60", "--rtt-ms", "1")
    assert "getUpdates round trip 1 ms + loopback" in out
    for mode in ("pump", "usual", "ceiling", "parse"):
        assert f"  {mode} " in out and " updates in " in out
    for ratio in ("pump / usual", "pump / ceiling", "parse / ceiling", "pump / parse"):
        assert ratio in out


def test_ingest_refuses_an_unknown_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--modes", "pump,warp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown warp" in done.stderr


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("results.py", ("--sizes", "200", "--repeat", "3")),
        ("digest.py", ("--answers", "2000", "--campaigns", "2", "--repeat", "1")),
    ],
)
def test_other_benchmarks_run_on_a_small_workload(name: str, args: tuple[str, ...]) -> None:
    assert bench(name, *args).strip()


def test_fanout_reports_the_time_against_the_limits_and_the_vote_delays() -> None:
    out = bench("fanout.py", "--channels", "3", "--rounds", "1", "--vote-every-ms", "50")
    assert "fan-out of /post" in out and "round 1: " in out
    assert "minimum " in out and "ratio " in out and "delay p50 " in out and "p99 " in out


def test_memory_reports_the_resident_size_at_each_checkpoint_and_the_ratio() -> None:
    out = bench("memory.py", "--checkpoints", "200,600", "--voters", "100")
    assert "after       200 answers:" in out and "after       600 answers:" in out
    assert "ratio 600 / 200 answers: " in out
