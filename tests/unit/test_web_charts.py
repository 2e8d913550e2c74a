"""Server-side bar chart geometry: stacked bars proportional to the values, round graduations."""

from __future__ import annotations

import pytest

from robocore.web import charts


def test_nice_step_is_round_and_reaches_the_top() -> None:
    """Four steps of 1, 2, 2.5 or 5 × 10^n cover the largest total."""
    assert charts.nice_step(22.5) == 10
    assert charts.nice_step(1119) == 500
    assert charts.nice_step(8) == 2
    assert charts.nice_step(0) == 1


def test_bars_are_stacked_per_category_and_proportional() -> None:
    """Each category's bars sit on one another from the baseline, heights proportional to the values; a zero
    draws nothing; the top graduation is at least the largest total."""
    chart = charts.chart("Heures", ["janv.", "févr."], {"A": [10, 20], "B": [5, 0]})
    layout = charts.layout(chart)
    first = [bar for bar in layout.bars if bar.category == 0]
    assert [bar.series for bar in first] == [0, 1]
    assert first[0].y + first[0].height == pytest.approx(layout.baseline)
    assert first[1].y + first[1].height == pytest.approx(first[0].y)
    assert first[0].height == pytest.approx(2 * first[1].height)
    assert len([bar for bar in layout.bars if bar.category == 1]) == 1
    assert layout.ticks[-1].value >= max(chart.totals()) and chart.totals() == (15, 20)
    assert [label.text for label in layout.labels] == ["janv.", "févr."]


def test_a_series_of_the_wrong_length_is_refused_naming_it() -> None:
    """Values must match the categories one to one."""
    with pytest.raises(ValueError, match="'B'"):
        charts.chart("Heures", ["janv.", "févr."], {"A": [1, 2], "B": [1]})


def _months(count: int) -> list[str]:
    names = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    return [f"{names[i % 12]} {23 + i // 12}" for i in range(count)]


def test_labels_of_many_months_are_thinned_so_none_overlaps() -> None:
    """36 months: every k-th label only (k > 1), from the first, the drawn ones never overlapping (each pair
    of neighbours at least as far apart as the wider label plus a gap); 12 months keep all twelve."""
    many = charts.layout(charts.chart("Heures", _months(36), {"A": list(range(36))}))
    kept = [label.category for label in many.labels]
    step = kept[1] - kept[0]
    assert step > 1 and kept == list(range(0, 36, step)) and len(many.bars) == 35
    for left, right in zip(many.labels, many.labels[1:], strict=False):
        room = max(charts.text_width(left.text), charts.text_width(right.text)) + charts.LABEL_GAP
        assert right.x - left.x >= room
    assert [label.text for label in many.labels] == _months(36)[::step]
    year = charts.layout(charts.chart("Heures", _months(12), {"A": [1.0] * 12}))
    assert [label.text for label in year.labels] == _months(12)


def test_the_data_table_keeps_every_month_when_labels_are_thinned() -> None:
    """The chart's table (macros.bar_chart) lists all 36 months, while the SVG draws fewer labels."""
    from robocore.web.templates import environment, render

    chart = charts.chart("Heures", _months(36), {"A": [float(i) for i in range(36)]})
    template = environment().from_string('{% import "macros.html" as m with context %}{{ m.bar_chart(chart, "c") }}')
    page = render(template, theme="neutral", lang="fr", chart=chart)
    assert page.count('<th scope="row">') == 36 and "sept. 25" in page
    assert 1 < page.count('class="rc-chart__label"') < 36


def test_ticks_show_the_decimals_their_step_needs() -> None:
    """A step of 0.25 h reads 0 / 0,25 / 0,5 / 0,75 / 1 (not 0,3 and 0,8); whole steps show no decimals."""
    from robocore.web.templates import environment, render

    small = charts.layout(charts.chart("Heures", _months(3), {"A": [0.2, 0.9, 0.5]}))
    assert [(tick.value, tick.places) for tick in small.ticks] == [(0, 2), (0.25, 2), (0.5, 2), (0.75, 2), (1.0, 2)]
    assert {tick.places for tick in charts.layout(charts.chart("H", _months(3), {"A": [10, 35, 20]})).ticks} == {0}
    chart = charts.chart("Heures", _months(3), {"A": [0.2, 0.9, 0.5]})
    template = environment().from_string('{% import "macros.html" as m with context %}{{ m.bar_chart(chart, "c") }}')
    page = render(template, theme="neutral", lang="fr", chart=chart)
    assert ">0,25</text>" in page and ">0,75</text>" in page and ">0,3</text>" not in page
