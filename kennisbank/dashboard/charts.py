"""Chart geometry for the dashboard: horizontal bar charts and a heatmap, laid out on the server.

The template (templates/_chart.html) draws them as SVG with only rectangles, text and CSS classes:
the CSP allows no inline styles, which the SVG of plotting libraries (matplotlib, pygal) relies on.
Every bar and cell carries its number as text, so no chart says anything in colour only; the figure's
table next to it is the text alternative with the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640  # viewBox units; the SVG scales to its container
CHAR = 7.2  # a rough width of one character at the chart's font size, for layout only
BAR_HEIGHT = 18
BAR_GAP = 4
GROUP_LABEL = 22
GROUP_GAP = 10
VALUE_ROOM = 170  # room right of the longest bar for "Geaccepteerd: 12"
HEAT_LEVELS = 5  # heat-0 (zero) to heat-4 (the maximum)


@dataclass(frozen=True)
class Bar:
    label: str  # the series, written next to the bar with its value
    value: int
    tone: str  # a CSS class: the series' colour
    y: float
    width: float


@dataclass(frozen=True)
class BarGroup:
    label: str
    y: float  # the baseline of the group's label
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    width: float
    height: float
    groups: list[BarGroup]
    kind: str = "bars"


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    value: int
    level: int  # 0..HEAT_LEVELS-1, a CSS class heat-<level>


@dataclass(frozen=True)
class HeatRow:
    label: str
    y: float
    cells: list[Cell]


@dataclass(frozen=True)
class HeatColumn:
    label: str
    x: float  # the centre of the column


@dataclass(frozen=True)
class Heatmap:
    title: str
    description: str
    width: float
    height: float
    label_width: float
    header_height: float
    cell_width: float
    cell_height: float
    columns: list[HeatColumn]
    rows: list[HeatRow]
    kind: str = "heatmap"


def bar_chart(
    title: str, description: str, groups: Sequence[tuple[str, Sequence[tuple[str, int, str]]]]
) -> BarChart | None:
    """Groups of (label, [(series, value, tone)]): each group's label on a line, its bars below it."""
    if not groups:
        return None
    largest = max((value for _, bars in groups for _, value, _ in bars), default=0) or 1
    scale = (WIDTH - VALUE_ROOM) / largest
    laid_out, y = [], 0.0
    for label, bars in groups:
        y += GROUP_LABEL
        top = y + BAR_GAP
        placed = [
            Bar(series, value, tone, top + i * (BAR_HEIGHT + BAR_GAP), max(value * scale, 1 if value else 0))
            for i, (series, value, tone) in enumerate(bars)
        ]
        laid_out.append(BarGroup(label, y - 6, placed))
        y = top + len(bars) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    return BarChart(title, description, WIDTH, y, laid_out)


def heatmap(
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[int]],
    cell_width: float = 44,
    cell_height: float = 28,
) -> Heatmap | None:
    """A grid of counts, shaded in HEAT_LEVELS steps of the largest; column labels slanted above it."""
    if not row_labels or not column_labels:
        return None
    largest = max((v for row in values for v in row), default=0)
    label_width = max(len(label) for label in row_labels) * CHAR + 12
    longest = max(len(label) for label in column_labels) * CHAR
    header_height = longest * 0.71 + 16  # labels at -45°
    columns = [HeatColumn(label, label_width + (i + 0.5) * cell_width) for i, label in enumerate(column_labels)]
    rows = [
        HeatRow(
            label,
            header_height + r * cell_height,
            [
                Cell(label_width + c * cell_width, header_height + r * cell_height, v, _level(v, largest))
                for c, v in enumerate(row)
            ],
        )
        for r, (label, row) in enumerate(zip(row_labels, values, strict=True))
    ]
    width = label_width + len(column_labels) * cell_width + longest * 0.71 + 8
    return Heatmap(
        title,
        description,
        width,
        header_height + len(row_labels) * cell_height + 4,
        label_width,
        header_height,
        cell_width,
        cell_height,
        columns,
        rows,
    )


def _level(value: int, largest: int) -> int:
    if value <= 0 or largest <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, round(value / largest * (HEAT_LEVELS - 1))))
