"""Charts as plain SVG: the geometry is computed here, ``templates/_charts.html`` draws it.

No JavaScript and nothing inline that a strict Content-Security-Policy refuses: shapes carry
a ``color-N`` class and ``stylesheet()`` colours them from a served stylesheet; every bar and
slice has a ``<title>`` with its value (a tooltip without script). Values stay integers
(cents, people); only labels are formatted, by the ``label`` function the caller passes.
The SVG scales to its container (``viewBox``), so a chart fits a 360 px phone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Series colours, in order (a chart's CSS gives ``.color-N`` the N-th).
PALETTE = ("#2f6b3a", "#b5651d", "#3a6ea5", "#8c4f8f", "#c9a227", "#6b6b6b")

WIDTH, HEIGHT = 800, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 110, 20, 20, 70

DONUT_WIDTH = 420

Label = Callable[[int], str]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str  # "Gross, 2025-01: $100.00"


@dataclass(frozen=True)
class Tick:
    position: float  # y for a vertical chart's value axis, x for a horizontal one
    label: str


@dataclass(frozen=True)
class Slice:
    path: str
    series: int
    title: str


@dataclass(frozen=True)
class LegendItem:
    series: int
    name: str
    x: float = 0
    y: float = 0


LEGEND_COLUMNS, LEGEND_COLUMN_WIDTH, LEGEND_ROW = 3, 260, 20


def _place_legend(
    names: Sequence[tuple[int, str]], first_row_y: float, columns: int = LEGEND_COLUMNS
) -> list[LegendItem]:
    return [
        LegendItem(
            series,
            name,
            20 + (n % columns) * LEGEND_COLUMN_WIDTH,
            first_row_y + (n // columns) * LEGEND_ROW,
        )
        for n, (series, name) in enumerate(names)
    ]


def _legend_rows(count: int, columns: int = LEGEND_COLUMNS) -> int:
    return -(-count // columns)


@dataclass
class Chart:
    """What the template draws: ``kind`` is ``bars``, ``hbars`` or ``donut``."""

    kind: str
    key: str
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    slices: list[Slice] = field(default_factory=list)
    value_ticks: list[Tick] = field(default_factory=list)
    category_ticks: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    empty_text: str = ""
    #: The plot area: left, top, right, bottom.
    plot: tuple[float, float, float, float] = (
        MARGIN_LEFT,
        MARGIN_TOP,
        WIDTH - MARGIN_RIGHT,
        HEIGHT - MARGIN_BOTTOM,
    )

    @property
    def empty(self) -> bool:
        return not (self.bars or self.slices)

    @property
    def rotate_categories(self) -> bool:
        return self.kind == "bars" and len(self.category_ticks) > 8


def nice_ticks(top: int, most: int = 6, whole: bool = False) -> list[int]:
    """Round tick values from 0 up to at least ``top``: steps of 1, 2 or 5 times a power of
    ten, at most ``most`` of them (``whole``: never a step below 1)."""
    if top <= 0:
        return [0, 1] if whole else [0]
    raw = top / max(1, most - 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, math.ceil(step)) if whole else max(1, int(step))
    count = -(-top // step)
    return [i * step for i in range(count + 1)]


def bar_chart(
    key: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[int]],
    label: Label,
    empty_text: str,
    whole: bool = False,
) -> Chart:
    """Vertical bars: one group per category, one bar per series in each group; a legend
    under the category labels when there is more than one series."""
    rows = _legend_rows(len(series)) if len(series) > 1 else 0
    chart = Chart("bars", key, title, height=HEIGHT + rows * LEGEND_ROW, empty_text=empty_text)
    if rows:
        chart.legend = _place_legend(list(enumerate(series)), HEIGHT - 8)
    values = [v for column in series.values() for v in column]
    if not categories or not any(values):
        return chart
    left, top, right, bottom = chart.plot
    ticks = nice_ticks(max(max(values), 0), whole=whole)
    scale = (bottom - top) / ticks[-1]
    chart.value_ticks = [Tick(bottom - t * scale, label(t)) for t in ticks]
    group = (right - left) / len(categories)
    bar_width = group * 0.8 / len(series)
    for c, category in enumerate(categories):
        x0 = left + c * group + group * 0.1
        chart.category_ticks.append(Tick(left + (c + 0.5) * group, category))
        for s, (name, column) in enumerate(series.items()):
            value = max(column[c], 0)
            height = value * scale
            chart.bars.append(
                Bar(
                    x0 + s * bar_width,
                    bottom - height,
                    bar_width,
                    height,
                    s,
                    f"{name}, {category}: {label(column[c])}",
                )
            )
    return chart


def horizontal_bar_chart(
    key: str, title: str, items: Sequence[tuple[str, int]], label: Label, empty_text: str
) -> Chart:
    """One horizontal bar per item, labelled on the left (long names fit there)."""
    height = max(HEIGHT, MARGIN_TOP + MARGIN_BOTTOM + 36 * len(items))
    chart = Chart(
        "hbars",
        key,
        title,
        height=height,
        empty_text=empty_text,
        plot=(220, MARGIN_TOP, WIDTH - 60, height - MARGIN_BOTTOM),
    )
    if not items or not any(v for _, v in items):
        return chart
    left, top, right, bottom = chart.plot
    ticks = nice_ticks(max(max(v for _, v in items), 0))
    scale = (right - left) / ticks[-1]
    chart.value_ticks = [Tick(left + t * scale, label(t)) for t in ticks]
    row = (bottom - top) / len(items)
    for i, (name, value) in enumerate(items):
        y = top + i * row + row * 0.15
        chart.category_ticks.append(Tick(top + (i + 0.5) * row, name))
        chart.bars.append(
            Bar(left, y, max(value, 0) * scale, row * 0.7, 0, f"{name}: {label(value)}")
        )
    return chart


def _arc(cx: float, cy: float, outer: float, inner: float, start: float, end: float) -> str:
    """A ring segment from angle ``start`` to ``end`` (radians, clockwise from twelve)."""
    if end - start >= 2 * math.pi - 1e-9:  # a whole ring: two halves (one arc cannot close)
        middle = start + math.pi
        return (
            _arc(cx, cy, outer, inner, start, middle)
            + " "
            + _arc(cx, cy, outer, inner, middle, end)
        )

    def point(radius: float, angle: float) -> str:
        return f"{cx + radius * math.sin(angle):.2f} {cy - radius * math.cos(angle):.2f}"

    large = 1 if end - start > math.pi else 0
    return (
        f"M {point(outer, start)} A {outer} {outer} 0 {large} 1 {point(outer, end)} "
        f"L {point(inner, end)} A {inner} {inner} 0 {large} 0 {point(inner, start)} Z"
    )


def donut_chart(
    key: str, title: str, items: Sequence[tuple[str, int]], label: Label, empty_text: str
) -> Chart:
    """A ring of the positive items (a ring cannot show a negative share; the table does)."""
    chart = Chart("donut", key, title, empty_text=empty_text)
    shown = [(i, name, value) for i, (name, value) in enumerate(items) if value > 0]
    # Narrow, with its legend in one column: on a phone it shrinks less than a wide chart.
    chart.width = DONUT_WIDTH
    chart.height = 310 + len(shown) * LEGEND_ROW
    chart.legend = _place_legend([(i, name) for i, name, _ in shown], 310, columns=1)
    total = sum(value for _, _, value in shown)
    if not total:
        return chart
    cx, cy, outer = DONUT_WIDTH / 2, 150, 130
    angle = 0.0
    for i, name, value in shown:
        end = angle + 2 * math.pi * value / total
        path = _arc(cx, cy, outer, outer * 0.55, angle, end)
        chart.slices.append(Slice(path, i, f"{name}: {label(value)}"))
        angle = end
    return chart


def stylesheet(keys: Sequence[str]) -> str:
    """The charts' CSS: a colour per series for each chart id, axes and labels."""
    lines = [
        ".chart { display: block; width: 100%; height: auto; max-width: 800px; }",
        ".chart text { font: 13px system-ui, sans-serif; fill: #333; }",
        ".chart .axis { stroke: #999; stroke-width: 1; }",
        ".chart .grid { stroke: #ddd; stroke-width: 1; }",
        ".chart .empty { font-size: 16px; }",
    ]
    for key in keys:
        for n, colour in enumerate(PALETTE):
            lines.append(f"#chart-{key} .color-{n} {{ fill: {colour}; }}")
    return "\n".join(lines) + "\n"
