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
