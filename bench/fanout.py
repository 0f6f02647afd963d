"""Benchmark (not a test): a /post fanned out to many channels under the flood limits,
and the votes arriving meanwhile.

A real ``pollbot run`` process against the sandbox (a process of its own, loopback), with
the sandbox's flood limits on (30 messages/s in all, 1/s per chat, 20/min per group). The
admin sends ``/post <seed article> @c1 ... @cN now``; while it goes out, voters keep voting
in a public poll posted before in a group. Reported per round:
  fan-out  - from the command to the admin's report, against the limits' own minimum
             for the same messages (the report included);
  lost     - channels without the whole article and its poll;
  votes    - how many were cast meanwhile, and the delay from each vote in the sandbox to
             its row in the database (p50, p99, max).

    python bench/fanout.py [--channels 50] [--rounds 3] [--vote-every-ms 20] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import TOKEN, start_sandbox  # noqa: E402

from bot.sandbox import SandboxClient  # noqa: E402

ADMIN = 1001
GROUP = -1002001
SEED = "moscow-plant-reboot"
LIMITS = (30, 1, 20)  # per second in all, per second per chat, per minute per group
SENDS = ("sendMessage", "sendPoll")


@dataclass(frozen=True)
class Round:
    seconds: float
    minimum: float
    messages: int
    lost: int
    delays: list[float]

    @property
    def ratio(self) -> float:
        return self.seconds / self.minimum if self.minimum else math.inf


def minimum_seconds(per_chat: list[int], groups: list[int], limits: tuple[int, int, int]) -> float:
    """The least time the sliding-window limits allow for these messages, the first one at
    0: ``per_chat`` counts each chat's messages, ``groups`` those of the chats that are
    groups. In all: message i waits for i // global * 1 s; in one chat: k messages take
    (k - 1) / per_chat s; in a group: (k - 1) // per_group minutes."""
    total = sum(per_chat)
    everything = (total - 1) // limits[0] if total else 0
    chats = max(((k - 1) / limits[1] for k in per_chat), default=0.0)
    in_groups = max(((k - 1) // limits[2] * 60.0 for k in groups), default=0.0)
    return max(float(everything), chats, in_groups)


def channel(index: int) -> tuple[int, str]:
    return -1003000000000 - index, f"fanout{index}"


def write_config(directory: Path, api_url: str, channels: int) -> Path:
    names = ", ".join(f'"@{channel(i)[1]}"' for i in range(channels))
    path = directory / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "pollbot.sqlite3"\n'
        f'[bot]\nadmins = [{ADMIN}]\nchannels = [{names}, "@benchgroup"]\npreview = false\n',
        encoding="utf-8",
    )
    return path


PROFILE: Path | None = None  # --profile: the bot runs under cProfile, its stats go there


def start_bot(config: Path) -> subprocess.Popen[bytes]:
    log = (config.parent / "bot.log").open("ab")
    profiler = ["-m", "cProfile", "-o", str(PROFILE)] if PROFILE is not None else []
    return subprocess.Popen(
        [sys.executable, *profiler, "-m", "bot", "run", "--config", str(config)],
        cwd=config.parent,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=log,
        stderr=log,
    )


async def until(predicate: Any, seconds: float, what: str, every: float = 0.01) -> Any:
    deadline = time.perf_counter() + seconds
    while True:
        found = await predicate()
        if found:
            return found
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(every)


async def bot_messages(control: SandboxClient, chat_id: int) -> list[dict[str, Any]]:
    chat = await control.chat(chat_id)
    return [m for m in chat.get("messages", []) if m["sandbox"]["from_bot"]]


async def one_round(api_url: str, channels: int, vote_every: float) -> Round:
    control = SandboxClient(api_url.removesuffix("/bot"))
    async with control:
        await control.reset()
        await control.add_user(ADMIN, "Admin")
        await control.add_chat(GROUP, "supergroup", "Bench group", "benchgroup", admins=[ADMIN])
        for index in range(channels):
            chat_id, name = channel(index)
            await control.add_chat(chat_id, "channel", name.title(), name, admins=[ADMIN])
        with tempfile.TemporaryDirectory(prefix="pollbot-fanout-") as tmp:
            config = write_config(Path(tmp), api_url, channels)
            process = start_bot(config)
            try:
                return await _measure(control, Path(tmp), channels, vote_every)
            finally:
                process.terminate()
                process.wait(30)


async def _measure(
    control: SandboxClient, directory: Path, channels: int, vote_every: float
) -> Round:
    await control.send(ADMIN, "/newpoll Which lineup? | Trucks | Buses | public @benchgroup now")

    async def group_poll() -> str | None:
        polls = [m for m in await bot_messages(control, GROUP) if "poll" in m]
        return str(polls[0]["poll"]["id"]) if polls else None

    poll_id = await until(group_poll, 60, "the group's poll", every=0.05)
    await until(lambda: _admin_said(control, 1), 30, "the /newpoll report", every=0.05)
    await control.flood(*LIMITS)
    before = len(await control.calls())
    names = " ".join(f"@{channel(i)[1]}" for i in range(channels))
    started = time.perf_counter()
    await control.send(ADMIN, f"/post {SEED} {names} now")
    cast: dict[int, float] = {}
    stored: dict[int, float] = {}
    database = directory / "pollbot.sqlite3"
    voter = 500_000
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        while not await _admin_said(control, 2):
            voter += 1
            await control.vote(voter, poll_id, [voter % 2])
            cast[voter] = time.perf_counter()
            _seen(conn, poll_id, stored)
            await asyncio.sleep(vote_every)
        finished = time.perf_counter()
        deadline = finished + 30
        while len(stored) < len(cast) and time.perf_counter() < deadline:
            _seen(conn, poll_id, stored)
            await asyncio.sleep(0.005)
    calls = (await control.calls())[before:]
    per_chat: dict[int, int] = {}
    for call in calls:
        if call["method"] in SENDS and call["ok"]:
            chat_id = int(call["params"]["chat_id"])
            per_chat[chat_id] = per_chat.get(chat_id, 0) + 1
    lost = 0
    for index in range(channels):
        got = await bot_messages(control, channel(index)[0])
        if not any("poll" in m for m in got) or not any("text" in m for m in got):
            lost += 1
    delays = [stored[v] - cast[v] for v in cast if v in stored]
    lost_votes = len(cast) - len(delays)
    if lost_votes:
        print(f"  {lost_votes} vote(s) not stored within 30 s", file=sys.stderr)
    return Round(
        seconds=finished - started,
        minimum=minimum_seconds(list(per_chat.values()), [], LIMITS),
        messages=sum(per_chat.values()),
        lost=lost,
        delays=delays,
    )


async def _admin_said(control: SandboxClient, count: int) -> bool:
    return len(await bot_messages(control, ADMIN)) >= count


def _seen(conn: sqlite3.Connection, poll_id: str, stored: dict[int, float]) -> None:
    now = time.perf_counter()
    try:
        rows = conn.execute("SELECT voter FROM answers WHERE poll_id = ?", (poll_id,)).fetchall()
    except sqlite3.OperationalError:  # busy for a moment: read again next time
        return
    for (voter,) in rows:
        stored.setdefault(int(voter), now)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def report(rounds: list[Round], channels: int) -> None:
    print(f"fan-out of /post {SEED} to {channels} channels, flood limits {LIMITS[0]}/s in all,")
    print(f"{LIMITS[1]}/s per chat, {LIMITS[2]}/min per group; votes meanwhile in a group poll")
    for number, run in enumerate(rounds, 1):
        delays = run.delays
        print(
            f"  round {number}: {run.seconds:.2f} s for {run.messages} messages "
            f"(minimum {run.minimum:.2f} s, ratio {run.ratio:.2f}), lost {run.lost}; "
            f"{len(delays)} votes, delay p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
            f"max {max(delays, default=0) * 1000:.0f} ms"
        )
    ratios = [r.ratio for r in rounds]
    p99s = [percentile(r.delays, 0.99) * 1000 for r in rounds]
    print(
        f"ratio to the minimum: median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}); vote delay p99: median "
        f"{statistics.median(p99s):.0f} ms (min {min(p99s):.0f}, max {max(p99s):.0f})"
    )


async def main_async(args: argparse.Namespace) -> None:
    process, api_url = start_sandbox()
    try:
        rounds = [
            await one_round(api_url, args.channels, args.vote_every_ms / 1000)
            for _ in range(args.rounds)
        ]
    finally:
        process.terminate()
        process.wait(10)
    report(rounds, args.channels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vote-every-ms", type=float, default=20.0)
    parser.add_argument("--profile", type=Path, help="write the bot's cProfile stats here")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
