"""Digest charts: a phone-sized PNG drawn from the data, readable in English and Russian."""

from __future__ import annotations

import io
import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from bot import texts
from bot.digests import charts
from bot.digests.charts import MIN_TREND_POINTS, ChartData, OptionResult, TrendPoint, render_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2025, 3, 14, 6, 0, tzinfo=UTC)


def trend(final: tuple[int, ...], points: int = 20, hours: float = 24) -> tuple[TrendPoint, ...]:
    """Counts growing from nothing to ``final`` over ``hours``, oldest first."""
    step = timedelta(hours=hours / (points - 1))
    return tuple(
        TrendPoint(START + k * step, tuple(round(c * ((k + 1) / points) ** 1.3) for c in final))
        for k in range(points)
    )


def plant_poll(points: int = 20) -> ChartData:
    counts = (412, 288, 350, 96)
    labels = (
        "Domestic EVs developed with KAMAZ",
        "Cars of a foreign partner brand",
        "Both tracks side by side",
        "Commercial electric vehicles",
    )
    return ChartData(
        title="Which lineup should the Moscow plant build?",
        options=tuple(map(OptionResult, labels, counts)),
        total_voters=sum(counts),
        trend=trend(counts, points) if points else (),
    )


def russian_poll() -> ChartData:
    counts = (412, 288, 350, 96)
    labels = (
        "Отечественные электромобили, разработанные с КАМАЗом",
        "Автомобили иностранного бренда-партнёра",
        "Оба направления параллельно",
        "Коммерческие электромобили",
    )
    return ChartData(
        title="Какую линейку должен выпускать московский завод?",
        options=tuple(map(OptionResult, labels, counts)),
        total_voters=sum(counts),
        trend=trend(counts),
    )


def two_options(first: int, second: int) -> ChartData:
    options = (OptionResult("Yes", first), OptionResult("No", second))
    return ChartData("Should we?", options, total_voters=first + second)


def size_of(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def longest_run(image: np.ndarray, hex_color: str) -> int:
    """The longest horizontal stretch of one colour: how long that bar is drawn."""
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    matches = np.all(np.abs(image - rgb) <= 2, axis=2)
    return int(matches.sum(axis=1).max())


def test_the_chart_is_a_phone_sized_png_with_ink_on_it() -> None:
    png = render_chart([plant_poll()], "en")

    width, height = size_of(png)
    assert width == 1080
    assert 600 < height < 2500
    image = pixels(png)
    assert image.shape == (height, width, 3)
    assert (image.sum(axis=2) < 200).sum() > 5_000  # dark text
    assert longest_run(image, charts.PALETTE[0]) > 300  # the leader's bar, in full colour


def test_a_russian_digest_draws_every_glyph_and_speaks_russian() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        png = render_chart([russian_poll(), two_options(0, 0)], "ru")

    assert size_of(png)[0] == 1080
    figure = charts._figure([russian_poll(), two_options(0, 0)], "ru", UTC)
    shown = {text.get_text() for text in figure.texts}
    assert {"1146 голосов", "Голоса во времени", "Голосов пока нет"} <= shown
    assert figure.axes[0].get_ylabel() == "Голоса"


def test_every_chart_text_has_a_russian_translation() -> None:
    _ = texts.gettext_for("ru")
    for msgid in ("No votes yet", "Votes over time", "Votes"):
        assert _(msgid) != msgid
    plural = texts.ngettext_for("ru")
    forms = {plural("{n} more poll not shown", "{n} more polls not shown", n) for n in (1, 2, 5)}
    assert len(forms) == 3 and all("{n}" in form for form in forms)  # Russian 1, 2, 5


def test_a_trend_adds_a_line_chart_only_with_enough_points() -> None:
    with_trend = size_of(render_chart([plant_poll()], "en"))[1]
    without = size_of(render_chart([plant_poll(points=0)], "en"))[1]
    too_short = size_of(render_chart([plant_poll(points=MIN_TREND_POINTS - 1)], "en"))[1]

    assert with_trend > without + 300
    assert too_short == without


def test_a_poll_without_votes_draws_empty_bars() -> None:
    png = render_chart([two_options(0, 0)], "en")

    image = pixels(png)
    assert size_of(png)[0] == 1080
    for color in charts.PALETTE:
        assert longest_run(image, color) < 5  # no filled bar, in full colour or not
    assert longest_run(image, charts.TRACK) > 500  # the empty tracks
    shown = {text.get_text() for text in charts._figure([two_options(0, 0)], "en", UTC).texts}
    assert "No votes yet" in shown


def test_bar_lengths_follow_the_counts() -> None:
    first_leads = pixels(render_chart([two_options(5, 1)], "en"))
    second_leads = pixels(render_chart([two_options(1, 5)], "en"))

    blue, orange = charts.PALETTE[0], charts.PALETTE[1]
    long_bar = longest_run(first_leads, blue)
    assert long_bar > 300
    assert longest_run(second_leads, orange) == pytest.approx(long_bar, abs=2)
    short_bar = longest_run(second_leads, charts._color(0, strong=False))
    assert short_bar == pytest.approx(long_bar / 5, abs=3)
    assert longest_run(first_leads, charts._color(1, strong=False)) == pytest.approx(
        short_bar, abs=2
    )


def test_twelve_long_options_fit_without_overlap() -> None:
    label = "An option with a rather long label that goes on and on about details " * 2
    options = tuple(OptionResult(f"{i}. {label[:97]}", i * 7) for i in range(12))
    chart = ChartData("Q" * 40 + " " + "question " * 30, options, 300, trend(tuple(range(12))))

    png = render_chart([chart], "en")

    width, height = size_of(png)
    assert width == 1080 and 2000 < height < 5000
    figure = charts._figure([chart], "en", UTC)
    assert_nothing_overlaps(figure)
    labels = [t.get_text() for t in figure.texts if t.get_text().startswith(("1.", "11."))]
    assert all(text.count("\n") == 2 and text.endswith("…") for text in labels)


def test_realistic_digests_lay_out_without_overlap() -> None:
    tricky = ChartData(
        "Emoji 🚗 and dollars: $5 or $10?",
        (OptionResult("👍", 3), OptionResult("$5 or $10", 3), OptionResult("x" * 90, 0)),
        total_voters=6,
        trend=trend((3, 3, 0), points=3, hours=0.5),
    )
    for chart in (plant_poll(), russian_poll(), plant_poll(points=0), tricky):
        assert_nothing_overlaps(charts._figure([chart], "ru", ZoneInfo("Europe/Moscow")))


def test_the_time_axis_is_in_the_digest_timezone() -> None:
    moscow = charts._figure([plant_poll()], "en", ZoneInfo("Europe/Moscow"))
    utc = charts._figure([plant_poll()], "en", UTC)
    for figure in (moscow, utc):
        figure.canvas.draw()

    assert moscow.axes[0].xaxis.get_offset_text().get_text() == "2025-03-15 MSK"
    assert utc.axes[0].xaxis.get_offset_text().get_text() == "2025-03-15 UTC"


def test_polls_beyond_the_panel_limit_are_counted_in_a_footer() -> None:
    polls = [two_options(i, 1) for i in range(charts.MAX_PANELS + 2)]

    figure = charts._figure(polls, "en", UTC)

    assert "2 more polls not shown" in {text.get_text() for text in figure.texts}
    shown = size_of(render_chart(polls[: charts.MAX_PANELS], "en"))[1]
    assert size_of(render_chart(polls, "en"))[1] == pytest.approx(shown + 0.45 * charts.DPI, abs=1)


def test_the_same_data_gives_the_same_bytes_in_any_thread() -> None:
    digest = [plant_poll(), russian_poll()]
    expected = render_chart(digest, "ru")

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_chart(digest, "ru"), range(4)))

    assert all(result == expected for result in results)
    assert render_chart([two_options(5, 1)], "en") != render_chart([two_options(1, 5)], "en")


def test_inconsistent_data_is_refused() -> None:
    with pytest.raises(ValueError, match="one count per option"):
        ChartData("Q", (OptionResult("a", 1),), 1, (TrendPoint(START, (1, 2)),))
    with pytest.raises(ValueError, match="negative"):
        ChartData("Q", (OptionResult("a", -1),), 1)
    with pytest.raises(ValueError, match="nothing to chart"):
        render_chart([], "en")


def assert_nothing_overlaps(figure: Figure) -> None:
    """No two texts overlap, no text covers a bar, and everything stays on the image."""
    figure.canvas.draw()
    boxes = [text.get_window_extent() for text in visible_texts(figure)]
    bars = [
        patch.get_window_extent()
        for patch in figure.artists
        if isinstance(patch, Rectangle) and patch.get_width() < figure.get_figwidth() - 1
    ]
    page = figure.bbox
    for box in boxes:
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 <= box.y1 <= page.y1
        assert not any(shrunk(box).overlaps(bar) for bar in bars)
    for one, other in itertools.combinations(boxes, 2):
        assert not shrunk(one).overlaps(shrunk(other)), (one, other)


def visible_texts(figure: Figure) -> list[Text]:
    found = [text for text in figure.texts if text.get_text()]
    for legend in figure.legends:
        found += legend.get_texts()
    for ax in figure.axes:
        low, high = sorted(ax.get_xlim())
        found += [
            label
            for tick, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
            if low <= tick <= high and label.get_text()
        ]
        low, high = sorted(ax.get_ylim())
        found += [
            label
            for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
            if low <= tick <= high and label.get_text()
        ]
        found += [ax.xaxis.get_offset_text(), ax.yaxis.label]
    return found


def shrunk(box: Bbox) -> Bbox:
    """A box one pixel smaller on each side, so that merely touching does not count."""
    return Bbox.from_extents(box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1)
