"""Bar charts drawn on the server as SVG: the geometry is worked out here, the template
(``reports/_chart.html``) only writes it out.

Horizontal bars, so that long names (a credential's title) stay readable; each bar carries its
number at its end, the series keep one order in every group and the legend names them in that
order, so the chart reads without telling colours apart. It is an image with a title and a
description for a screen reader, which point to the table beside it where every number is.
No script and no inline style (the console's Content-Security-Policy allows neither): colours
come from the stylesheet by class, and print as they show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 760
LABELS_WIDTH = 250
"""Left of the plot: the groups' names."""
VALUE_ROOM = 64
"""Right of the longest bar: its number."""
GROUP_GAP = 14
AXIS_ROOM = 34
LEGEND_ROOM = 30
MAX_LABEL_CHARS = 34
MAX_GROUPS = 40
"""A chart of more groups would not be read; the table beside it has every row."""


@dataclass(frozen=True)
class Bar:
    css: str
    """The series' class (its colour, from the stylesheet)."""
    x: float
    y: float
    width: float
    height: float
    label: str
    """The number written at the bar's end."""
    label_x: float
    label_y: float
    title: str
    """What a pointer's tooltip says: the group, the series and the number."""


@dataclass(frozen=True)
class Group:
    label: str
    """The group's name, shortened to fit."""
    full_label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    css: str
    name: str
    x: float


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    groups: tuple[Group, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[LegendEntry, ...]
    axis_label: str
    shown: int
    """Groups drawn (at most ``MAX_GROUPS``)."""
    total: int
    """Groups in the table."""


def nice_step(top: float, whole: bool) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten that cuts ``[0, top]`` into about four."""
    if top <= 0:
        return 1.0
    rough = top / 4
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= rough and (not whole or float(step).is_integer()):
            return step
    return 10 * power


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    show: Callable[[float | None], str],
    axis_label: str,
    whole: bool = False,
) -> Chart:
    """Lay out a bar per series in each group (``labels``, in order); ``series`` is
    ``(name, class, values)`` with a value per label, the class giving its colour; ``show``
    writes a value as the table does; ``whole``: the values are counts (ticks fall on whole
    numbers)."""
    drawn = list(labels)[:MAX_GROUPS]
    many = len(series) > 1
    bar_height = 12 if many else 18
    bar_gap = 2
    group_height = len(series) * (bar_height + bar_gap) - bar_gap
    top = LEGEND_ROOM if many else 10
    values = [v for _, _, vs in series for v in list(vs)[: len(drawn)] if v is not None]
    step = nice_step(max(values, default=0), whole)
    scale_top = max(step, math.ceil(max(values, default=0) / step) * step)
    left, right = float(LABELS_WIDTH), float(WIDTH - VALUE_ROOM)

    def x_of(value: float) -> float:
        return left + (right - left) * value / scale_top

    groups = []
    y = float(top)
    for index, label in enumerate(drawn):
        bars = []
        for number, (name, css, vs) in enumerate(series):
            value = vs[index]
            bar_y = y + number * (bar_height + bar_gap)
            end = x_of(value or 0)
            bars.append(
                Bar(
                    css=css,
                    x=left,
                    y=bar_y,
                    width=max(0.0, end - left),
                    height=bar_height,
                    label=show(value) or "none",
                    label_x=end + 4,
                    label_y=bar_y + bar_height - (2 if many else 5),
                    title=f"{label} — {name}: {show(value) or 'none'}",
                )
            )
        groups.append(Group(_shorten(label), label, y + group_height / 2 + 4, tuple(bars)))
        y += group_height + GROUP_GAP
    bottom = y - GROUP_GAP + 6 if drawn else y + 20
    ticks = []
    value = 0.0
    while value <= scale_top + step / 1000:
        ticks.append(Tick(x_of(value), show(value) or "0"))
        value += step
    legend = []
    x = left
    for name, css, _ in series if many else ():
        legend.append(LegendEntry(css, name, x))
        x += 24 + 7.5 * len(name)
    return Chart(
        title=title,
        description=description,
        width=WIDTH,
        height=int(bottom + AXIS_ROOM),
        plot_left=left,
        plot_right=right,
        plot_top=float(top),
        plot_bottom=bottom,
        groups=tuple(groups),
        ticks=tuple(ticks),
        legend=tuple(legend),
        axis_label=axis_label,
        shown=len(drawn),
        total=len(labels),
    )
