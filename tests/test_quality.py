"""The house style is checked, not hoped for: ruff (lint and format) and strict mypy."""

from __future__ import annotations

import subprocess
import sys

from tests.harness import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing_to_fix() -> None:
    lint = run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout
    layout = run("ruff", "format", "--check", ".")
    assert layout.returncode == 0, layout.stdout


def test_mypy_strict_passes_on_bot_and_storage() -> None:
    typing = run("mypy")
    assert typing.returncode == 0, typing.stdout
