"""Bar charts drawn on the server as SVG (stacked when there are several series), always beside their table.

Why our own SVG rather than `@gouvfr/dsfr-chart`: dsfr-chart's web components need the DSFR
core (its README), which the neutral theme must not load, so the neutral pages would need a
second chart library anyway; they draw on a canvas through Vue and Chart.js (450 KB for the
bar chart alone) that a screen reader cannot read; and a server-side SVG needs no script at
all under the `default-src 'self'` policy, prints, and looks the same in both themes (its
colours come from each theme's CSS). The numbers are read from the data table that
`macros.bar_chart` always renders next to the chart (RGAA 1.x / 4.x: a chart has a text
alternative giving the same information); the SVG itself is one labelled image.

Geometry only here (plain numbers in a fixed viewBox); the template writes the SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 40  # room for the value axis and the category labels
TICKS = 4
PALETTE_SIZE = 8  # CSS classes rc-series-0 … rc-series-7, reused in turn
LABEL_FONT = 12  # px, as robocore.css draws `.rc-chart__label` (user units of the viewBox)
LABEL_GAP = 8  # the least room between two category labels (the estimate is short for DejaVu Sans)
# Advance widths in em of a sans-serif font, by class of character (generous for Marianne and Arial);
# the server cannot measure text, so labels are thinned on this estimate.
_NARROW, _WIDE = set(".,:;'’ |!iljtfrI()-"), set("mwMW")


@dataclass(frozen=True)
class Series:
    """One series of values, one per category (a process's hours per month)."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class BarChart:
    """What a bar chart shows: a title, the categories along the axis (months), and the series stacked."""

    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"série {series.name!r} : {len(series.values)} valeurs pour "
                                 f"{len(self.categories)} catégories / series {series.name!r}: "
                                 f"{len(series.values)} values for {len(self.categories)} categories")

    def totals(self) -> tuple[float, ...]:
        """The stacked total of each category."""
        return tuple(sum(series.values[i] for series in self.series) for i in range(len(self.categories)))


@dataclass(frozen=True)
class Bar:
    """One rectangle: a series' share of one category."""

    x: float
    y: float
    width: float
    height: float
    series: int
    category: int

    @property
    def palette(self) -> int:
        """The colour class index (`rc-series-N`)."""
        return self.series % PALETTE_SIZE


@dataclass(frozen=True)
class Tick:
    """A value-axis graduation: its height and value."""

    y: float
    value: float
    places: int = 0  # decimals shown: as many as the step needs (0.25 → 2), so that no two ticks read alike


@dataclass(frozen=True)
class Label:
    """A category label under the axis."""

    x: float
    text: str
    category: int = 0


@dataclass(frozen=True)
class Layout:
    """Everything the template draws, in the viewBox `0 0 WIDTH HEIGHT`."""

    width: int
    height: int
    left: float
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]


def nice_step(top: float, ticks: int = TICKS) -> float:
    """A round graduation step (1, 2, 2.5 or 5 times a power of ten) so that `ticks` steps reach `top`."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def text_width(text: str, font: float = LABEL_FONT) -> float:
    """An estimate of the width of `text` drawn at `font` px (narrow, wide, capital and other characters)."""
    def em(char: str) -> float:
        if char in _NARROW:
            return 0.3
        if char in _WIDE:
            return 0.85
        return 0.68 if char.isupper() else 0.56

    return sum(em(char) for char in text) * font


def label_step(categories: Sequence[str], slot: float) -> int:
    """Every how many categories a label is drawn so that none overlaps the next (1: every one).

    Labels are centred on their slot, so two drawn labels `k` slots apart do not touch when `k × slot`
    is at least the widest label plus LABEL_GAP. The data table under the chart keeps every category.
    """
    if not categories or slot <= 0:
        return 1
    widest = max(text_width(text) for text in categories)
    return max(1, math.ceil((widest + LABEL_GAP) / slot))


def layout(chart: BarChart) -> Layout:
    """The bars (stacked per category), value ticks and category labels of a chart.

    With many categories (36 months), only every `label_step`-th label is drawn, from the first.
    """
    step = nice_step(max(chart.totals(), default=0.0))
    top = step * TICKS
    baseline, plot_height = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(len(chart.categories), 1)
    bar_width = slot * 0.6
    bars: list[Bar] = []
    for category in range(len(chart.categories)):
        x, y = LEFT + slot * category + (slot - bar_width) / 2, float(baseline)
        for index, series in enumerate(chart.series):
            height = max(series.values[category], 0.0) / top * plot_height
            if height > 0:
                y -= height
                bars.append(Bar(x, y, bar_width, height, index, category))
    places = next((p for p in range(4) if abs(round(step, p) - step) < 1e-9 * max(step, 1.0)), 3)
    ticks = tuple(Tick(baseline - plot_height * i / TICKS, step * i, places) for i in range(TICKS + 1))
    every = label_step(chart.categories, slot)
    labels = tuple(Label(LEFT + slot * (i + 0.5), text, i) for i, text in enumerate(chart.categories)
                   if i % every == 0)
    return Layout(WIDTH, HEIGHT, LEFT, baseline, tuple(bars), ticks, labels)


def chart(title: str, categories: Sequence[str], series: dict[str, Sequence[float]], unit: str = "") -> BarChart:
    """A BarChart from plain lists: `chart("Heures", ["janv."], {"Process A": [12.5]})`."""
    return BarChart(title, tuple(categories),
                    tuple(Series(name, tuple(float(v) for v in values)) for name, values in series.items()), unit)
