"""The process domain without a database: stages in French, changes checked field by field, the estimate
formula and the minutes history's "what changed"."""

from __future__ import annotations

from datetime import datetime

import pytest

from robocore import processes
from robocore.processes import InvalidProcess, ProcessStage
from robocore.store.rows import MinutesPeriod


@pytest.mark.parametrize(("text", "stage"), [
    ("idea", ProcessStage.IDEA), ("idée", ProcessStage.IDEA), ("En étude", ProcessStage.STUDY),
    (" production ", ProcessStage.PRODUCTION), ("retiré", ProcessStage.RETIRED)])
def test_a_stage_reads_from_its_code_or_its_french_label(text: str, stage: ProcessStage) -> None:
    """Codes are stored; French labels (any case, spaces around) are accepted as their code."""
    assert processes.parse_stage(text) is stage
    assert processes.STAGE_LABELS[stage] in {"idée", "en étude", "en production", "retiré"}


def test_an_unknown_stage_names_the_field_and_the_stages() -> None:
    """An unknown stage is refused, French first, naming « stage » and every stage there is."""
    with pytest.raises(InvalidProcess) as caught:
        processes.parse_stage("abandonné")
    assert caught.value.field == "stage"
    assert str(caught.value).startswith("étape inconnue « abandonné » pour « stage » : idea (idée)")


def test_only_given_fields_are_changed_and_null_clears() -> None:
    """Fields left out are absent from the changes; null clears a text; a French stage becomes its code."""
    assert processes.parse_changes({"lab": None, "stage": "en production", "annual_volume": 0}) == {
        "lab": None, "stage": ProcessStage.PRODUCTION, "annual_volume": 0}
    assert processes.parse_changes({}) == {}


@pytest.mark.parametrize(("data", "field"), [
    ({"goal_hours": -1}, "goal_hours"), ({"annual_volume": 1.5}, "annual_volume"), ({"stage": None}, "stage"),
    ({"region": "x" * 201}, "region"), ({"goal_hours": float("inf")}, "goal_hours")])
def test_a_wrong_value_names_its_field(data: dict[str, object], field: str) -> None:
    """Every refusal carries the field's name, in the French message too."""
    with pytest.raises(InvalidProcess) as caught:
        processes.parse_changes(data)
    assert caught.value.field == field and f"« {field} »" in caught.value.fr


def test_the_estimate_is_volume_times_minutes_plus_runs() -> None:
    """(volume × minutes per item + runs of 12 months × minutes per run) ÷ 60; None without a volume or minutes."""
    assert processes.estimate(1200, 4.5, 10.0, 12) == pytest.approx((1200 * 4.5 + 12 * 10) / 60)
    assert processes.estimate(1200, 4.5, 0.0, 12) == pytest.approx(90.0)
    assert processes.estimate(None, 4.5, 10.0, 12) is None
    assert processes.estimate(1200, None, None, 0) is None


def _period(robot: str, version: int, per_item: float, per_run: float, day: int) -> MinutesPeriod:
    return MinutesPeriod(robot, version, f"{version:064d}", per_item, per_run, datetime(2026, 1, day), None, 1)


def test_each_period_knows_the_minutes_its_robot_had_before() -> None:
    """Per robot, a period's previous minutes are that robot's former ones (another robot's do not count);
    the reason names the robot version and the change."""
    changes = processes.history([_period("a", 1, 4.5, 10, 1), _period("b", 2, 2.0, 0, 2), _period("a", 3, 9, 20, 3)])
    assert [(c.previous_per_item, c.previous_per_run) for c in changes] == [(None, None), (None, None), (4.5, 10)]
    assert changes[0].reason.startswith("premier barème du robot a (version 1")
    assert "barème modifié par le robot a (version 3" in changes[2].reason
    assert "4,5 → 9 min par élément" in changes[2].reason
