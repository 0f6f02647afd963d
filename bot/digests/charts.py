"""Digest charts: one phone-sized PNG with a results panel (and a trend) per campaign.

Also here: a poll's result as a chart (``result_chart``, with its ``trend_of``), drawn off
the event loop by ``draw``, for the digests and the final result post (bot/polls/final.py).

Only the object API on Agg (no pyplot, no global rcParams), so ``render_chart`` can run in a
worker thread via ``asyncio.to_thread``. The layout is computed top down, in inches, from
measured text rather than by constrained layout, which took twice as long.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from itertools import groupby

from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from bot import texts
from bot.polls.results import CampaignResult, option_key
from storage import Store
from storage.polls import PollCounts

log = logging.getLogger(__name__)

MIN_TREND_POINTS = 3
# A taller image would be shrunk by Telegram to an unreadable width on a phone.
MAX_PANELS = 3

WIDTH, DPI = 7.2, 150  # inches: 1080 px wide
FONT = "DejaVu Sans"  # ships with matplotlib; covers Latin, Cyrillic and Greek
TITLE_PT, TEXT_PT, SMALL_PT = 15, 12, 11
INK, MUTED, PAPER, CARD, TRACK = "#222222", "#666666", "#E9ECEF", "#FFFFFF", "#EEF0F2"
# Okabe-Ito without the yellow that vanishes on white; past 7 options lines turn dashed.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#555555")

MARGIN, PAD, GAP = 0.15, 0.2, 0.15  # inches: around the cards, inside them, between blocks
CONTENT = WIDTH - 2 * (MARGIN + PAD)
LABEL_MAX, TITLE_LINES, LABEL_LINES = 2.8, 4, 3  # the label column is at most 2.8 in wide
ROW_GAP, BAR_HEIGHT = 0.75, 1.1  # in lines of label text
TREND_AXES, TREND_BELOW = 2.3, 0.6  # plot height; room for tick labels and the date offset
LEGEND_ROW = SMALL_PT * 1.6 / 72


@dataclass(frozen=True, slots=True)
class OptionResult:
    """One answer option and how many voters chose it."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Counts at one moment, in the same order as ``ChartData.options``."""

    at: datetime  # naive means UTC
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartData:
    """What one panel shows: the poll question, its current result and its history."""

    title: str
    options: tuple[OptionResult, ...]
    total_voters: int
    trend: tuple[TrendPoint, ...] = ()  # oldest first
    multiple: bool = False  # voters may choose several: shares are of voters
    chats: int = 1  # how many chats' polls the counts add up

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("a chart needs at least one option")
        if self.total_voters < 0 or any(option.count < 0 for option in self.options):
            raise ValueError("counts cannot be negative")
        if any(len(point.counts) != len(self.options) for point in self.trend):
            raise ValueError("every trend point needs one count per option")


def render_chart(charts: Sequence[ChartData], language: str, *, timezone: tzinfo = UTC) -> bytes:
    """Render a digest as PNG bytes: a panel per chart, at most MAX_PANELS, then a footer."""
    png = io.BytesIO()
    # No "Software" tag (and PNGs get no timestamp), so the same input gives the same bytes;
    # light compression, as at the default level encoding took a third of the time.
    _figure(charts, language, timezone).savefig(
        png, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 1}
    )
    return png.getvalue()


@dataclass(frozen=True, slots=True)
class _Panel:
    """A chart with its text wrapped to measured widths, so its height is known up front."""

    chart: ChartData
    title: str
    labels: tuple[str, ...]
    rows: tuple[float, ...]  # row heights, in lines of label text
    label_width: float
    counts: tuple[str, ...]
    count_width: float
    legend: tuple[str, ...]  # empty when there is no trend to draw

    @property
    def top(self) -> int:
        return max(option.count for option in self.chart.options)

    @property
    def height(self) -> float:
        header = _line(TITLE_PT) * (self.title.count("\n") + 1) + _line(SMALL_PT) + GAP
        trend = 0.0
        if self.legend:
            legend_rows = -(-len(self.legend) // _legend_columns(self.legend))
            trend = GAP + _line(TEXT_PT) + TREND_AXES + TREND_BELOW + legend_rows * LEGEND_ROW
        return PAD + header + sum(self.rows) * _line(TEXT_PT) + trend + PAD


def _figure(charts: Sequence[ChartData], language: str, timezone: tzinfo) -> Figure:
    if not charts:
        raise ValueError("nothing to chart")
    _ = texts.gettext_for(language)
    panels = [_plan(chart) for chart in charts[:MAX_PANELS]]
    hidden = len(charts) - len(panels)
    height = MARGIN * (len(panels) + 1) + sum(p.height for p in panels) + 0.45 * (hidden > 0)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor=PAPER)
    FigureCanvasAgg(figure)
    top = MARGIN
    for panel in panels:
        _draw_panel(figure, panel, top, language, timezone)
        top += panel.height + MARGIN
    if hidden:
        text = texts.translate_plural(
            language, "{n} more poll not shown", "{n} more polls not shown", hidden
        )
        _text(figure, WIDTH / 2, top, text, color=MUTED, ha="center")
    return figure


def _plan(chart: ChartData) -> _Panel:
    labels = [_wrap(o.label, LABEL_MAX, LABEL_LINES, TEXT_PT) or [f"#{i + 1}"]
              for i, o in enumerate(chart.options)]  # fmt: skip
    shown = texts.shares(
        [o.count for o in chart.options], chart.total_voters, multiple=chart.multiple
    )
    counts = tuple(f"{o.count} · {share}" for o, share in zip(chart.options, shown, strict=True))
    width = CONTENT / _legend_columns(chart.options) - 0.45  # minus line sample and spacing
    legend = tuple(_clip(o.label, width, SMALL_PT, bold=False) or f"#{i + 1}"
                   for i, o in enumerate(chart.options))  # fmt: skip
    return _Panel(
        chart=chart,
        title="\n".join(_wrap(chart.title, CONTENT, TITLE_LINES, TITLE_PT)),
        labels=tuple("\n".join(lines) for lines in labels),
        rows=tuple(len(lines) + ROW_GAP for lines in labels),
        label_width=max(_width(line, TEXT_PT) for lines in labels for line in lines),
        counts=counts,
        count_width=max(_width(count, TEXT_PT) for count in counts),
        legend=legend if _has_trend(chart) else (),
    )


def _draw_panel(
    figure: Figure, panel: _Panel, top: float, language: str, timezone: tzinfo
) -> None:
    _ = texts.gettext_for(language)
    _rect(figure, MARGIN, top, WIDTH - 2 * MARGIN, panel.height, CARD)
    left, y = MARGIN + PAD, top + PAD
    _text(figure, left, y, panel.title, size=TITLE_PT, weight="bold")
    y += _line(TITLE_PT) * (panel.title.count("\n") + 1)
    chart = panel.chart
    summary = _summary(chart, language) if panel.top else _("No votes yet")
    _text(figure, left, y, summary, size=SMALL_PT, color=MUTED)
    y += _line(SMALL_PT) + GAP
    _draw_bars(figure, panel, left, y)
    if not panel.legend:
        return
    y += sum(panel.rows) * _line(TEXT_PT) + GAP
    _text(figure, left, y, _("Votes over time"))
    y += _line(TEXT_PT)
    digits = str(int(max(max(point.counts) for point in chart.trend) * 1.1) + 1)
    axis = _line(SMALL_PT) + _width(digits, SMALL_PT, bold=False) + 0.2  # label, ticks, pads
    height = figure.get_figheight()
    box = (left + axis, height - y - TREND_AXES, CONTENT - axis - 0.3, TREND_AXES)
    ax = figure.add_axes((box[0] / WIDTH, box[1] / height, box[2] / WIDTH, box[3] / height))
    _draw_trend(ax, panel, _, timezone)
    y += TREND_AXES + TREND_BELOW
    figure.legend(
        handles=ax.get_lines(), labels=list(panel.legend), loc="upper left",
        bbox_to_anchor=(left / WIDTH, 1 - y / height), borderaxespad=0,
        ncols=_legend_columns(panel.legend), frameon=False, handlelength=1.5,
        handletextpad=0.5, columnspacing=1.2, prop=FontProperties(family=FONT, size=SMALL_PT),
    )  # fmt: skip


def _summary(chart: ChartData, language: str) -> str:
    """ "3 voters", or over several chats "5 votes in 2 chats"."""
    voters = chart.total_voters or sum(option.count for option in chart.options)
    if chart.chats > 1:
        text = texts.votes_in_chats(language, voters, chart.chats)
    else:
        text = texts.translate_plural(language, "{n} voter", "{n} voters", voters)
    if chart.multiple:
        text += " · " + texts.translate(language, "shares of voters, several choices each")
    return text


def _draw_bars(figure: Figure, panel: _Panel, left: float, top: float) -> None:
    """Bars drawn straight onto the figure: an Axes per panel would only cost time."""
    x = left + panel.label_width + 0.12
    span = CONTENT - panel.label_width - 0.12 - (panel.count_width + 0.12) * bool(panel.top)
    unit, bar = _line(TEXT_PT), BAR_HEIGHT * _line(TEXT_PT)
    for i, option in enumerate(panel.chart.options):
        middle = top + (sum(panel.rows[:i]) + panel.rows[i] / 2) * unit
        lead = panel.top > 0 and option.count == panel.top
        weight = "bold" if lead else "normal"
        _text(figure, x - 0.12, middle, panel.labels[i], weight=weight, ha="right", va="center")
        if not panel.top:  # an empty track, so a poll without votes still reads as bars
            _rect(figure, x, middle - bar / 2, span, bar, TRACK)
            continue
        length = span * option.count / panel.top
        _rect(figure, x, middle - bar / 2, length, bar, _color(i, strong=lead))
        _text(figure, x + length + 0.08, middle, panel.counts[i], weight=weight, va="center")


def _draw_trend(ax: Axes, panel: _Panel, _: texts.Gettext, timezone: tzinfo) -> None:
    points = sorted(panel.chart.trend, key=lambda point: _aware(point.at))
    times = [_aware(point.at) for point in points]
    for i, option in enumerate(panel.chart.options):
        ax.plot(
            times,  # type: ignore[arg-type]  # matplotlib's date converter takes datetimes
            [point.counts[i] for point in points],
            color=_color(i),
            linestyle="-" if i < len(PALETTE) else "--",
            linewidth=3.0 if panel.top and option.count == panel.top else 1.8,
        )
    locator = mdates.AutoDateLocator(tz=timezone, minticks=3, maxticks=6)  # type: ignore[no-untyped-call]
    # Numeric dates: strftime month names follow the process locale, not the digest language.
    formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator,
        tz=timezone,
        formats=["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"],
        zero_formats=["", "%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M"],
        offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d %Z", "%Y-%m-%d %Z", "%Y-%m-%d %H:%M %Z"],
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.set_ylim(bottom=0)
    ax.margins(x=0.01)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=SMALL_PT, labelfontfamily=FONT, colors=INK)
    ax.xaxis.get_offset_text().set(fontsize=SMALL_PT, fontfamily=FONT, color=MUTED)
    ax.set_ylabel(_("Votes"), fontsize=SMALL_PT, fontfamily=FONT, color=MUTED)


def _rect(figure: Figure, x: float, y: float, width: float, height: float, color: str) -> None:
    """A rectangle, top-left at (x, y) inches from the top-left; under the trend axes."""
    bottom = figure.get_figheight() - y - height
    box = Rectangle((x, bottom), width, height, color=color, linewidth=0, zorder=-1)
    figure.add_artist(box).set_transform(figure.dpi_scale_trans)


def _text(
    figure: Figure, x: float, y: float, text: str, *, size: int = TEXT_PT, color: str = INK,
    weight: str = "normal", ha: str = "left", va: str = "top",
) -> None:  # fmt: skip
    """Text anchored at (x, y) inches from the figure's top-left corner."""
    figure.text(
        x, figure.get_figheight() - y, text, transform=figure.dpi_scale_trans, ha=ha, va=va,
        fontsize=size, fontweight=weight, color=color, fontfamily=FONT, parse_math=False,
    )  # fmt: skip


def _wrap(text: str, width: float, max_lines: int, size: int) -> list[str]:
    """Break ``text`` into bold lines at most ``width`` inches wide, "…" past ``max_lines``."""
    lines: list[str] = []
    current = ""
    for word in _drawable(text).split():
        if _width(f"{current} {word}".strip(), size) <= width:
            current = f"{current} {word}".strip()
            continue
        lines += [current] if current else []
        while len(word) > 1 and _width(word, size) > width:  # links and the like
            cut = max(1, len(_clip(word, width, size, mark="")))
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines += [current] if current else []
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _clip(rest, width, size, force=True)]
    return lines


def _clip(
    text: str, width: float, size: int, *, bold: bool = True, mark: str = "…", force: bool = False
) -> str:
    """``text`` cut to ``width`` inches, ending with ``mark`` if cut (or if ``force``)."""
    text = _drawable(text)
    if not force and _width(text, size, bold=bold) <= width:
        return text
    while text and _width(text.rstrip(" …,;:") + mark, size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip(" …,;:") + mark


def _width(text: str, size: float, *, bold: bool = True) -> float:
    """Width of a line of text in inches. Bold by default: wider, so safe for either weight."""
    return sum(_advance(char, size, bold) for char in text) / DPI


@cache
def _advance(char: str, size: float, bold: bool) -> float:
    # Summed glyph advances: FT2Font.set_text is exact but takes a millisecond a call.
    font = font_manager.get_font(_font_path(bold))  # one FT2Font per thread
    font.set_size(size, DPI)
    return font.load_char(ord(char)).linearHoriAdvance / 65536


def _drawable(text: str) -> str:
    """Drop what the font cannot draw (emoji, mostly) instead of drawing empty boxes."""
    supported = _font_codepoints()
    return " ".join("".join(ch for ch in text if ord(ch) in supported).split())


@cache
def _font_path(bold: bool) -> str:
    font = FontProperties(family=FONT, weight="bold" if bold else "normal")
    return font_manager.findfont(font, fallback_to_default=False)


@cache
def _font_codepoints() -> frozenset[int]:
    return frozenset(font_manager.get_font(_font_path(False)).get_charmap())


def _line(points: float) -> float:
    """Inches taken by one line of text (matplotlib's line spacing plus some slack)."""
    return points * 1.45 / 72


def _has_trend(chart: ChartData) -> bool:
    moments = {_aware(point.at) for point in chart.trend}
    return len(chart.trend) >= MIN_TREND_POINTS and len(moments) > 1


def _legend_columns(entries: Sequence[object]) -> int:
    return 1 if len(entries) <= 3 else 2


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _color(index: int, *, strong: bool = True) -> str:
    """The option's colour; a lighter tint of it unless ``strong`` (the leader's bar)."""
    red, green, blue = to_rgb(PALETTE[index % len(PALETTE)])
    mix = 0.0 if strong else 0.5
    return to_hex((red + (1 - red) * mix, green + (1 - green) * mix, blue + (1 - blue) * mix))


# -- a poll's result as a chart (digests and the final result post) ---------------------

TREND_POINTS = 60  # per poll: snapshots are thinned to about this many


def result_chart(result: CampaignResult, trend: tuple[TrendPoint, ...] = ()) -> ChartData:
    """One chart panel of a result (already scoped): its bars, and its trend if any."""
    correct = result.correct_keys
    options = tuple(
        OptionResult(o.label + (" ✓" if o.key in correct else ""), o.count) for o in result.options
    )
    return ChartData(
        result.question,
        options,
        result.total_voters,
        trend,
        multiple=result.multiple,
        chats=len(result.chats),
    )


async def trend_of(
    store: Store, result: CampaignResult, polls: Sequence[PollCounts], now: datetime
) -> tuple[TrendPoint, ...]:
    """Combined counts over time: each poll's latest snapshot, summed at every moment."""
    start = result.campaign.created_at // 60
    bucket = -(-max(1, int(now.timestamp()) // 60 - start) // TREND_POINTS)
    originals = len(result.campaign.options)
    events: list[tuple[int, str, dict[str, int]]] = []
    for poll in polls:
        keys = {o.persistent_id: option_key(o, originals) for o in poll.options}
        series = await store.snapshot_series(
            poll.poll.poll_id, since_minute=start, bucket_minutes=bucket
        )
        events += [
            (
                snap.minute,
                poll.poll.poll_id,
                {keys[pid]: count for pid, count in snap.counts.items() if pid in keys},
            )
            for snap in series
        ]
    order = [option.key for option in result.options]
    latest: dict[str, dict[str, int]] = {}
    points: list[TrendPoint] = []
    for minute, group in groupby(sorted(events, key=lambda e: e[0]), key=lambda e: e[0]):
        latest.update((poll_id, counts) for _, poll_id, counts in group)
        totals = tuple(sum(counts.get(key, 0) for counts in latest.values()) for key in order)
        points.append(TrendPoint(datetime.fromtimestamp(minute * 60, UTC), totals))
    if points and points[-1].at < now - timedelta(minutes=1):
        points.append(TrendPoint(now, tuple(option.count for option in result.options)))
    return tuple(points)


async def draw(charts: Sequence[ChartData], language: str, timezone: tzinfo) -> bytes | None:
    """Charts drawn in a worker thread; None (text only) if drawing fails."""
    try:
        return await asyncio.to_thread(render_chart, charts, language, timezone=timezone)
    except Exception:  # a chart is a bonus: the message goes out without it
        log.exception("could not draw a chart")
        return None
