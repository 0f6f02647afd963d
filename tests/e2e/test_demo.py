"""``pollbot demo`` as a newcomer runs it: offline, no token, exit 0, a readable transcript.

Also ``pollbot demo --keep`` with the ``pollbot sandbox`` commands poking the kept bot.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from bot.demo.run import ADMIN  # the demo's admin: Alice, as in tests/cast.py
from tests.harness import pollbot_argv, pollbot_env

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_demo_runs_the_whole_mission_offline(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        pollbot_argv("demo", "--dir", str(out), "--readers", "150"),
        cwd=tmp_path,
        env=pollbot_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    for step in (
        "sandbox",
        "pollbot started",
        "/post moscow-plant-reboot",
        "Get a summary",
        "voted",
        "/results",
        "/digest",
    ):
        assert step in text
    assert "Preview of draft #1" in text and "Alice pressed [ Publish ]" in text
    assert "Draft #1 was published." in text
    assert "Plant News @plantnews (channel)" in text and "Plant fans (supergroup)" in text
    assert "📊 Which lineup should the reborn Moscow plant build?" in text
    assert "Poll digest" in text and "Summary requested by 60 readers" in text
    assert "Кратко" in text and "Summary" in text  # a Russian and an English reader
    assert "Traceback" not in text + done.stderr
    chart = out / "digest-chart.png"
    assert chart.read_bytes().startswith(PNG)
    with sqlite3.connect(out / "pollbot.sqlite3") as db:
        voters = db.execute("SELECT SUM(total_voters) FROM polls").fetchone()[0]
        readers = db.execute("SELECT summary_readers FROM article_stats").fetchone()[0]
    assert voters > 150 and readers == 60
    assert f"database: {out / 'pollbot.sqlite3'}" in text


def test_demo_keep_serves_the_sandbox_commands(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    demo = subprocess.Popen(
        pollbot_argv("demo", "--dir", str(out), "--readers", "40", "--keep"),
        cwd=tmp_path,
        env=pollbot_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if "Press Ctrl-C" in line:
                break
        url = (out / "sandbox.url").read_text().strip()
        env = {**pollbot_env(), "POLLBOT_SANDBOX_URL": url}
        said = subprocess.run(
            pollbot_argv("sandbox", "say", str(ADMIN), "/polls"),
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert said.returncode == 0 and "Which lineup" in said.stdout, said.stdout
        polls = subprocess.run(
            pollbot_argv("sandbox", "polls"), env=env, capture_output=True, text=True, timeout=30
        )
        poll_id = polls.stdout.split()[0]
        voted = subprocess.run(
            pollbot_argv("sandbox", "vote", "777", poll_id, "2"),
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert voted.returncode == 0 and poll_id in voted.stdout
        shown = subprocess.run(
            pollbot_argv("sandbox", "show", str(ADMIN)),
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "/polls" in shown.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if demo.stdout is not None:
            demo.stdout.close()
    assert demo.returncode == 0
    assert not (out / "sandbox.url").exists()
