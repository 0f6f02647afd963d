"""Benchmark (not a test): the resident size of a real ``pollbot run`` as answers pile up.

The sandbox (a process of its own, loopback) holds a public poll that the bot posted in a
group; voters change their answers in bulk, and the bot drains them as in production. The
bot's resident size (VmRSS of /proc/<pid>/status) is read once the bot has drained the
first checkpoint's answers and again after the last; the report gives both and the ratio.

    python bench/memory.py [--checkpoints 10000,1000000] [--voters 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fanout import ADMIN, GROUP, bot_messages, start_bot, until  # noqa: E402
from ingest import TOKEN, start_sandbox  # noqa: E402

from bot.sandbox import SandboxClient  # noqa: E402

CHUNK = 5_000
BACKLOG = 20_000  # updates the sandbox may hold before the feeder waits for the bot


def write_config(directory: Path, api_url: str) -> Path:
    path = directory / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "pollbot.sqlite3"\n'
        f'[bot]\nadmins = [{ADMIN}]\nchannels = ["@benchgroup"]\npreview = false\n',
        encoding="utf-8",
    )
    return path


def resident_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


async def feed(control: SandboxClient, poll_id: str, first: int, last: int, voters: int) -> None:
    """Answers ``first`` .. ``last - 1``: each voter flips its choice every round of voters,
    so every answer is a change (one poll_answer and one poll update)."""
    for start in range(first, last, CHUNK):
        await until(lambda: _short_backlog(control), 3600, "the bot to drain", every=0.05)
        votes = [
            [1_000_000 + i % voters, poll_id, [(i // voters) % 2]]
            for i in range(start, min(last, start + CHUNK))
        ]
        result = await control.bulk_votes(votes)
        assert not result["refused"], result["refused"][:3]


async def drained(control: SandboxClient) -> None:
    """Until the bot has fetched everything, and a moment for its last batch to commit."""
    await until(lambda: _nothing_pending(control), 3600, "the bot to drain", every=0.1)
    await asyncio.sleep(1.0)


async def _short_backlog(control: SandboxClient) -> bool:
    """Few enough updates wait at the sandbox: a real backlog is short."""
    return await control.pending() <= BACKLOG


async def _nothing_pending(control: SandboxClient) -> bool:
    return await control.pending() == 0


async def run(api_url: str, checkpoints: list[int], voters: int) -> list[tuple[int, int, float]]:
    control = SandboxClient(api_url.removesuffix("/bot"))
    async with control:
        await control.reset()
        await control.add_user(ADMIN, "Admin")
        await control.add_chat(GROUP, "supergroup", "Bench group", "benchgroup", admins=[ADMIN])
        with tempfile.TemporaryDirectory(prefix="pollbot-memory-") as tmp:
            process = start_bot(write_config(Path(tmp), api_url))
            try:
                await control.send(ADMIN, "/newpoll Which lineup? | Trucks | Buses | public now")

                async def group_poll() -> str | None:
                    polls = [m for m in await bot_messages(control, GROUP) if "poll" in m]
                    return str(polls[0]["poll"]["id"]) if polls else None

                poll_id = await until(group_poll, 60, "the group's poll", every=0.05)
                rows: list[tuple[int, int, float]] = []
                done, started = 0, time.perf_counter()
                for checkpoint in checkpoints:
                    await feed(control, poll_id, done, checkpoint, voters)
                    await drained(control)
                    done = checkpoint
                    rows.append((done, resident_kib(process.pid), time.perf_counter() - started))
                return rows
            finally:
                process.terminate()
                process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", default="10000,1000000")
    parser.add_argument("--voters", type=int, default=50_000)
    args = parser.parse_args()
    checkpoints = sorted(int(n) for n in args.checkpoints.split(","))
    sandbox, api_url = start_sandbox()
    try:
        rows = asyncio.run(run(api_url, checkpoints, args.voters))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    print(f"resident size of pollbot run (VmRSS), {args.voters} voters changing their answers")
    for answers, kib, seconds in rows:
        print(f"  after {answers:>9,} answers: {kib / 1024:7.1f} MiB  ({seconds:.0f} s in)")
    first, last = rows[0], rows[-1]
    print(f"ratio {last[0]:,} / {first[0]:,} answers: {last[1] / first[1]:.2f}")


if __name__ == "__main__":
    main()
