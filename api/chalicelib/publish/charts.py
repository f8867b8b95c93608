"""Geometry of the inline SVG charts (no chart library in the browser, no inline style: shapes
carry classes that the published stylesheet colours). Each chart is drawn next to a table of the
same numbers, which is what screen readers read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    css: str = "cl-chart__label"
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    points: str
    css: str


@dataclass(frozen=True)
class Legend:
    css: str
    text: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws; coordinates are in the viewBox."""

    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    gridlines: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[Legend] = field(default_factory=list)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _axis(chart: Chart, maximum: float, suffix: str = "") -> None:
    plot_h = chart.height - TOP - BOTTOM
    for i in range(5):
        value = maximum * i / 4
        y = TOP + plot_h - plot_h * i / 4
        chart.gridlines.append((LEFT, y, chart.width - RIGHT, y))
        label = f"{value:g}{suffix}"
        chart.texts.append(Text(LEFT - 6, y + 4, label, "cl-chart__axis", "end"))


def grouped_bars(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    line: tuple[str, str, Sequence[float]] | None = None,
    maximum: float | None = None,
    suffix: str = "",
    label_every: int = 1,
) -> Chart:
    """Bars for each label, one per series (``(name, css class, values)``; None draws nothing),
    and optionally a line series on the same axis."""
    chart = Chart(title, description)
    values = [v for _, _, vs in series for v in vs if v is not None]
    if line is not None:
        values.extend(line[2])
    top = maximum if maximum is not None else _nice_max(max(values, default=0))
    _axis(chart, top, suffix)
    plot_w = chart.width - LEFT - RIGHT
    plot_h = chart.height - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar_w = slot * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot + slot * 0.1
        for j, (name, css, vs) in enumerate(series):
            v = vs[i]
            if v is None:
                continue
            h = plot_h * min(v, top) / top
            chart.rects.append(
                Rect(
                    x0 + j * bar_w,
                    TOP + plot_h - h,
                    bar_w,
                    h,
                    css,
                    f"{label}: {name} {v:g}{suffix}",
                )
            )
        if i % label_every == 0:
            chart.texts.append(Text(LEFT + i * slot + slot / 2, chart.height - BOTTOM + 16, label))
    if line is not None:
        name, css, vs = line
        points = " ".join(
            f"{LEFT + i * slot + slot / 2:.1f},{TOP + plot_h - plot_h * min(v, top) / top:.1f}"
            for i, v in enumerate(vs)
        )
        chart.lines.append(Line(points, css))
        chart.legend.append(Legend(css, name))
    chart.legend[:0] = [Legend(css, name) for name, css, _ in series]
    return chart
