"""Benchmark (not a test): how fast poll answers are drained from the Bot API into SQLite.

Five ways, in the same run, against the same sandbox (a separate process on loopback):
  pump     - pollbot's durable pump: one transaction per batch of up to 100 updates, votes
             decoded by msgspec straight into the store (bot/fastpath.py);
  pump-ptb - the same pump with the fast path off: PTB parses and dispatches every vote;
  usual    - PTB's default Updater with the same handlers and store, one commit per update;
  ceiling  - a bare client that only fetches getUpdates and discards the JSON;
  parse    - the ceiling plus PTB's Update.de_json of each update: the bound on any pump
             that, like this one, hands PTB objects to Application.process_update;
  webhook  - the same updates POSTed by a load client of its own (aiohttp, 40 connections,
             like Telegram's default max_connections) to a real ``pollbot run`` in webhook
             mode (uvicorn, as in production); a 200 means committed. In the same run the
             same client asks that server's bare GET /healthz as many times (healthz): the
             HTTP stack's own limit.
Every mode drains the same N votes (non-anonymous group poll: poll_answer + poll updates).

    python bench/ingest.py [--answers 20000] [--users 5000] [--rounds 1] [--modes pump,...]
                           [--rtt-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from telegram import Bot, Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import polls  # noqa: E402
from bot.app import build_application, running  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.pump import UpdatePump  # noqa: E402
from bot.sandbox import SandboxClient  # noqa: E402
from bot.services import Services, install  # noqa: E402
from storage import Store  # noqa: E402

GROUP = -1002001
TOKEN = "123456:BENCH-TOKEN"
OPTIONS = ["EVs with KAMAZ", "Partner brand", "Both tracks", "Commercial EVs"]


@dataclass(frozen=True)
class Result:
    mode: str
    updates: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


def crowd(answers: int, users: int, seed: int) -> list[tuple[int, list[int]]]:
    """``answers`` votes that each change the voter's choice (some retract)."""
    rng = random.Random(seed)
    current: dict[int, int | None] = {}
    votes: list[tuple[int, list[int]]] = []
    while len(votes) < answers:
        user = 100_000 + rng.randint(1, users)
        before = current.get(user)
        if before is not None and rng.random() < 0.1:
            current[user] = None
            votes.append((user, []))
            continue
        option = rng.choice([o for o in range(len(OPTIONS)) if o != before])
        current[user] = option
        votes.append((user, [option]))
    return votes


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", "0", "--token", TOKEN],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("api_url = "):
        process.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return process, line.split("=", 1)[1].strip()


async def prepare(api_url: str, votes: list[tuple[int, list[int]]], rtt: float) -> int:
    """Reset the sandbox, send the poll, queue the votes; return how many updates wait.

    With ``rtt`` > 0 every getUpdates is held that many seconds before it is answered, as
    a network between the bot and the Bot API would (loopback has next to none).
    """
    control = SandboxClient(api_url.removesuffix("/bot"))
    async with control:
        await control.reset()
        await control.add_chat(GROUP, "supergroup", title="Bench group")
        async with Bot(TOKEN, base_url=api_url) as bot:
            message = await bot.send_poll(GROUP, "Which lineup?", OPTIONS, is_anonymous=False)
        assert message.poll is not None
        poll_id = message.poll.id
        for start in range(0, len(votes), 5_000):
            chunk = votes[start : start + 5_000]
            result = await control.bulk_votes([[u, poll_id, c] for u, c in chunk])
            assert not result["refused"], result["refused"][:3]
        if rtt > 0:  # one rule per call; what a mode leaves is reset with the sandbox
            await control.fault("slow", method="getUpdates", times=len(votes) + 1000, delay=rtt)
        return await control.pending()


def config_for(api_url: str, directory: Path) -> Config:
    path = directory / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api_url}"\npoll_timeout = 0\n'
        f'[storage]\npath = "pollbot.sqlite3"\n[bot]\nadmins = [1]\nchannels = []\n',
        encoding="utf-8",
    )
    return Config.from_toml(path, env={})


async def run_pump(api_url: str, expected: int, directory: Path) -> float:
    """The pump as the bot runs it: votes by the fast path (bot/fastpath.py)."""
    return await pump_with(api_url, expected, directory, fast_path=True)


async def run_pump_ptb(api_url: str, expected: int, directory: Path) -> float:
    """The pump with the fast path off: PTB parses and dispatches every vote."""
    return await pump_with(api_url, expected, directory, fast_path=False)


async def pump_with(api_url: str, expected: int, directory: Path, *, fast_path: bool) -> float:
    config = config_for(api_url, directory)
    application = build_application(config)
    async with running(application, config) as svc:
        pump = UpdatePump(application, svc.store, timeout=0, fast_path=fast_path)
        stop = asyncio.Event()
        started = time.perf_counter()
        runner = asyncio.create_task(pump.run(stop))
        # Polling a counter keeps the measured path free of extra handlers.
        while pump.stats.updates < expected:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        stop.set()
        await runner
    return elapsed


async def run_usual(api_url: str, expected: int, directory: Path) -> float:
    """PTB's Updater + the same handlers and store, outside any batch: a commit per write."""
    config = config_for(api_url, directory)
    # Two getUpdates connections: Updater.stop() makes one more call while the last
    # long poll may still hold the first (PTB's default of 1 then logs a PoolTimeout).
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api_url)
        .get_updates_connection_pool_size(2)
        .build()
    )
    for handler in polls.FEATURE.handlers:
        application.add_handler(handler)
    handled = 0
    done = asyncio.Event()

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        handled += 1
        if handled >= expected:
            done.set()

    application.add_handler(TypeHandler(Update, count), group=1)
    store = await Store.open(config.storage.path)
    install(application, Services(config=config, store=store))
    try:
        async with application:
            started = time.perf_counter()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=0)
            await application.start()
            await done.wait()
            elapsed = time.perf_counter() - started
            await application.updater.stop()
            await application.stop()
    finally:
        await store.close()
    return elapsed


async def drain(api_url: str, expected: int, each: Callable[[dict[str, Any]], object]) -> float:
    """Fetch batches with a bare HTTP client, call ``each`` on every update, keep nothing."""
    seen, offset = 0, None
    async with httpx.AsyncClient(base_url=f"{api_url}{TOKEN}/") as http:
        started = time.perf_counter()
        while seen < expected:
            params: dict[str, object] = {"timeout": 0, "limit": 100}
            if offset is not None:
                params["offset"] = offset
            response = await http.post("getUpdates", json=params)
            batch = json.loads(response.content)["result"]
            for raw in batch:
                each(raw)
            if batch:
                offset = batch[-1]["update_id"] + 1
                seen += len(batch)
        elapsed = time.perf_counter() - started
        if offset is not None:
            await http.post("getUpdates", json={"offset": offset, "timeout": 0})
    return elapsed


async def run_ceiling(api_url: str, expected: int, directory: Path) -> float:
    """Fetch batches and throw them away: the cost of getting updates at all."""
    return await drain(api_url, expected, lambda raw: None)


async def run_parse(api_url: str, expected: int, directory: Path) -> float:
    """The ceiling's fetch plus PTB's Update.de_json of each update, then discard.

    No handler, no SQLite: the bound on any pump that hands PTB ``Update`` objects to
    ``Application.process_update``, as the pump must.
    """
    bot = Bot(TOKEN, base_url=api_url)
    return await drain(api_url, expected, lambda raw: Update.de_json(raw, bot))


WEBHOOK_CONNECTIONS = 40  # Telegram's default max_connections
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"


async def fetch_raw(api_url: str, expected: int) -> list[bytes]:
    """Take the queued updates out of the sandbox with a bare client, each as its own body."""
    bodies: list[bytes] = []

    def keep(raw: dict[str, Any]) -> None:
        bodies.append(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode())

    await drain(api_url, expected, keep)
    return bodies


def webhook_config(api_url: str, directory: Path, port: int) -> Path:
    path = directory / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api_url}"\nmode = "webhook"\n'
        f'[telegram.webhook]\nlisten = "127.0.0.1"\nport = {port}\n'
        f'url = "http://127.0.0.1:{port}/telegram"\nsecret_token = "{WEBHOOK_SECRET}"\n'
        f'[storage]\npath = "pollbot.sqlite3"\n[bot]\nadmins = [1]\nchannels = []\n',
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(session: aiohttp.ClientSession, requests: list[tuple[str, bytes | None]]) -> float:
    """Send every (url, body) request, WEBHOOK_CONNECTIONS at a time; the seconds taken.
    A POST with a body, a GET without; anything but 200 stops the benchmark."""
    queue = iter(requests)
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
    }

    async def worker() -> None:
        for url, body in queue:
            if body is None:
                response = await session.get(url)
            else:
                response = await session.post(url, data=body, headers=headers)
            async with response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url} answered {response.status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(WEBHOOK_CONNECTIONS)))
    return time.perf_counter() - started


async def run_webhook(api_url: str, expected: int, directory: Path) -> dict[str, float]:
    """Deliver the updates to a real ``pollbot run`` in webhook mode, then ask its /healthz
    as many times, with the same client and connections: the seconds of each."""
    bodies = await fetch_raw(api_url, expected)
    port = free_port()
    config = webhook_config(api_url, directory, port)
    process = start_bot(config)
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=WEBHOOK_CONNECTIONS)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_healthy(session, f"{base}/healthz", process)
            committed = await load(session, [(f"{base}/telegram", body) for body in bodies])
            health = await load(session, [(f"{base}/healthz", None)] * len(bodies))
    finally:
        process.terminate()
        process.wait()
    return {"webhook": committed, "healthz": health}


def start_bot(config: Path) -> subprocess.Popen[bytes]:
    """``pollbot run`` in its own process (its own core), logging next to its config."""
    with (config.parent / "bot.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=config.parent,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def wait_healthy(
    session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]
) -> None:
    for _ in range(500):
        if process.poll() is not None:
            raise SystemExit(f"pollbot run exited with {process.returncode}")
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.02)
    raise SystemExit("the webhook server did not start")


Runner = Callable[[str, int, Path], Awaitable[float | dict[str, float]]]
MODES: dict[str, Runner] = {
    "pump": run_pump,
    "pump-ptb": run_pump_ptb,
    "usual": run_usual,
    "ceiling": run_ceiling,
    "parse": run_parse,
    "webhook": run_webhook,
}


async def bench(
    answers: int, users: int, rounds: int, modes: list[str], rtt: float
) -> list[Result]:
    votes = crowd(answers, users, seed=1)
    process, api_url = start_sandbox()
    results: list[Result] = []
    try:
        for _ in range(rounds):
            for mode in modes:
                runner = MODES[mode]
                expected = await prepare(api_url, votes, rtt)
                with tempfile.TemporaryDirectory() as tmp:
                    timed = await runner(api_url, expected, Path(tmp))
                # A runner measures its mode, or several side by side (webhook + healthz).
                for name, seconds in (timed if isinstance(timed, dict) else {mode: timed}).items():
                    results.append(Result(name, expected, seconds))
                    print(f"  {name:8} {expected:7d} updates in {seconds:6.2f} s", flush=True)
    finally:
        process.terminate()
        process.wait()
    return results


def report(results: list[Result]) -> None:
    best: dict[str, float] = {}
    for result in results:
        best[result.mode] = max(best.get(result.mode, 0.0), result.rate)
    print(f"\nbest of each (updates/s) on {os.cpu_count()} cores:")
    for mode, rate in best.items():
        print(f"  {mode:8} {rate:9.0f}")
    if "pump" in best and "usual" in best:
        print(f"  pump / usual   = {best['pump'] / best['usual']:.1f}x   (aim: >= 5x)")
    if "pump" in best and "ceiling" in best:
        print(f"  pump / ceiling = {best['pump'] / best['ceiling']:.2f}    (aim: >= 0.5)")
    if "parse" in best and "ceiling" in best:
        bound = best["parse"] / best["ceiling"]
        print(f"  parse / ceiling = {bound:.2f}   (no pump that parses with PTB can do better)")
    if "pump" in best and "parse" in best:
        print(f"  pump / parse   = {best['pump'] / best['parse']:.2f}")
    if "webhook" in best and "healthz" in best:
        ratio = best["webhook"] / best["healthz"]
        print(
            f"  webhook / healthz = {ratio:.2f}  (committed / bare GET, same client; aim: >= 0.5)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"comma-separated subset of {','.join(MODES)} (default: all)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="hold each getUpdates this long, like a network round trip (default: 0)",
    )
    args = parser.parse_args()
    if args.rtt_ms < 0:
        parser.error("--rtt-ms: must be 0 or more")
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        parser.error(f"--modes: unknown {', '.join(unknown) or '(none given)'}")
    print(
        f"draining {args.answers} poll answers from {args.users} users, {args.rounds} rounds,"
        f" getUpdates round trip {args.rtt_ms:g} ms + loopback"
    )
    rtt = args.rtt_ms / 1000
    report(asyncio.run(bench(args.answers, args.users, args.rounds, modes, rtt)))


if __name__ == "__main__":
    main()
