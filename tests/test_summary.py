"""The automatic summary: real sentences, in source order, within limits, offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import summary
from bot.articles.content import Library
from bot.config import SHIPPED_CONTENT_DIR

ROOT = Path(__file__).resolve().parent.parent
SEED = Library.load(SHIPPED_CONTENT_DIR).get("moscow-plant-reboot")

RUSSIAN = """Глава Минпромторга Денис Мантуров заявил, что московский завод продолжит работу.
Прежнюю линейку моделей выпускать не будут. Новую стратегию завода разрабатывают вместе
с КАМАЗом. Главный упор сделан на электромобили. Завод может выпускать машины вместе
с иностранными партнёрами.

Кроме того, планируется выпуск электромобилей собственной разработки. Производство
останется в Москве, а опытные рабочие сохранят места. Слова министра приводит ТАСС.
Стратегия опирается на разработки КАМАЗа в области электромобилей."""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check(points: tuple[str, ...], text: str, max_points: int, max_chars: int) -> None:
    flat = _flat(text)
    assert 1 <= len(points) <= max_points
    assert sum(len(p) for p in points) <= max_chars
    positions = [flat.index(_flat(p)) for p in points]  # every point is a sentence of the text
    assert positions == sorted(positions)  # in source order
    assert len(set(points)) == len(points)


def test_seed_article_summary_in_english() -> None:
    assert SEED is not None
    points = summary.summarize(SEED.body, "en")
    _check(points, SEED.body, 4, 900)
    assert all(p.endswith(".") for p in points)
    assert any("KAMAZ" in p for p in points)


def test_russian_summary() -> None:
    points = summary.summarize(RUSSIAN, "ru", max_points=3, max_chars=300)
    _check(points, RUSSIAN, 3, 300)
    assert all(p[0].isupper() for p in points)


@pytest.mark.parametrize(("max_points", "max_chars"), [(1, 900), (2, 300), (4, 250), (6, 2000)])
def test_limits_are_kept(max_points: int, max_chars: int) -> None:
    assert SEED is not None
    _check(
        summary.summarize(SEED.body, "en", max_points=max_points, max_chars=max_chars),
        SEED.body,
        max_points,
        max_chars,
    )


def test_a_sentence_longer_than_the_budget_is_cut_not_dropped() -> None:
    text = "This is one long sentence that keeps going on and on without an end in sight."
    (point,) = summary.summarize(text, "en", max_chars=30)
    assert len(point) <= 30 and point.endswith("…")
    assert text.startswith(point[:-1])


def test_short_and_empty_texts() -> None:
    assert summary.summarize("", "en") == ()
    assert summary.summarize("Only one sentence here.", "en") == ("Only one sentence here.",)
    assert summary.summarize("First one. Second one.", "en") == ("First one.", "Second one.")


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        summary.summarize("Ein Satz. Noch einer.", "de")


def test_works_without_nltk_data(tmp_path: Path) -> None:
    """A fresh interpreter with an empty NLTK_DATA and downloads forbidden still summarizes."""
    assert SEED is not None
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import nltk
nltk.data.path[:] = [{str(tmp_path)!r}]
def refuse(*args, **kwargs):
    raise AssertionError("nltk download attempted")
nltk.download = refuse
from bot.articles import summary
print(json.dumps([summary.summarize(sys.argv[1], "en"), summary.summarize(sys.argv[2], "ru")]))
"""
    env = {"NLTK_DATA": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, SEED.body, RUSSIAN],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    english, russian = json.loads(done.stdout)
    assert tuple(english) == summary.summarize(SEED.body, "en")
    assert tuple(russian) == summary.summarize(RUSSIAN, "ru")


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(st.text("abcdefghij", min_size=1, max_size=30), min_size=1, max_size=60),
    limit=st.integers(min_value=8, max_value=120),
)
def test_split_to_fit_loses_nothing(words: list[str], limit: int) -> None:
    text = ". ".join(" ".join(words[i : i + 5]) for i in range(0, len(words), 5)) + "."
    pieces = summary.split_to_fit(text, limit, "en")
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
