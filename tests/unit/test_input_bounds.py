"""Inputs' `minimum`/`maximum` (numbers and dates): declared in robot.yaml, checked at launch, named when refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from robocore.errors import RobotDefinitionError
from robocore.i18n import render, use_language
from robocore.inputs import InputError, resolve_inputs
from robocore.loader import parse_robot
from robocore.server.catalog import input_fields, input_schema, inputs_version
from robocore.spec import Robot

BOUNDED = """\
robot: bornes
inputs:
  montant: {type: number, label: Montant, minimum: 1, maximum: 5000.5}
  jour: {type: date, label: Jour, minimum: 2026-01-01, maximum: "2026-12-31"}
  note: {type: text, required: false}
steps:
  - use: flow.log
    with: {message: x}
"""


def _robot() -> Robot:
    return parse_robot(BOUNDED, "robots/bornes/robot.yaml")


def test_values_inside_the_bounds_pass(tmp_path: Path) -> None:
    """The bounds themselves and values between them are accepted, dates written either way."""
    for montant, jour in ((1, "2026-01-01"), ("5000,5", "31/12/2026"), (42, dt.date(2026, 6, 1))):
        got = resolve_inputs(_robot(), {"montant": montant, "jour": jour}, tmp_path)
        assert got["jour"] >= dt.date(2026, 1, 1)


@pytest.mark.parametrize(("given", "field", "fr", "en"), [
    ({"montant": 0}, "montant", "entrée « Montant » (montant) : 0 est inférieur au minimum 1",
     "input “Montant” (montant): 0 is below the minimum 1"),
    ({"montant": "5000,6"}, "montant", "entrée « Montant » (montant) : 5000.6 est supérieur au maximum 5000.5",
     "input “Montant” (montant): 5000.6 is above the maximum 5000.5"),
    ({"jour": "31/12/2025"}, "jour", "entrée « Jour » (jour) : 2025-12-31 est inférieur au minimum 2026-01-01",
     "input “Jour” (jour): 2025-12-31 is below the minimum 2026-01-01"),
    ({"jour": "2027-01-01"}, "jour", "entrée « Jour » (jour) : 2027-01-01 est supérieur au maximum 2026-12-31",
     "input “Jour” (jour): 2027-01-01 is above the maximum 2026-12-31"),
])
def test_values_outside_are_refused_naming_the_input(given: dict[str, object], field: str, fr: str, en: str,
                                                     tmp_path: Path) -> None:
    """A value below the minimum or above the maximum is refused with the input's label, name and bound."""
    values = {"montant": 2, "jour": "2026-02-02", **given}
    with pytest.raises(InputError) as caught:
        resolve_inputs(_robot(), values, tmp_path)
    assert caught.value.field == field
    assert render(caught.value.text, "fr").replace("\u00a0", " ") == fr
    assert render(caught.value.text, "en") == en


def test_every_refused_input_is_listed(tmp_path: Path) -> None:
    """Two wrong inputs: the error is the first one's, `problems` holds both, each with its name."""
    with pytest.raises(InputError) as caught:
        resolve_inputs(_robot(), {"montant": -3, "jour": "demain"}, tmp_path)
    assert [p.field for p in caught.value.problems] == ["montant", "jour"]
    assert caught.value.problems[0] is caught.value


@pytest.mark.parametrize(("declared", "words"), [
    ("{type: text, minimum: 1}", "« minimum » ne s’applique qu’aux entrées de type nombre ou date"),
    ("{type: number, maximum: 2026-01-01}", "« maximum » doit être un nombre, reçu 2026-01-01"),
    ("{type: date, minimum: 3}", "« minimum » doit être une date (AAAA-MM-JJ), reçu 3"),
    ("{type: number, minimum: 10, maximum: 2}", "« minimum » (10) est supérieur à « maximum » (2)"),
])
def test_wrong_bounds_fail_the_robot_file(declared: str, words: str) -> None:
    """Bounds on another type, of the wrong kind, or inverted: the loader names the file, the input and why."""
    text = f"robot: x\ninputs:\n  n: {declared}\nsteps:\n  - use: flow.log\n    with: {{message: x}}\n"
    with use_language("fr"), pytest.raises(RobotDefinitionError) as caught:
        parse_robot(text, "robots/x/robot.yaml")
    message = str(caught.value).replace("\u00a0", " ")
    assert "robots/x/robot.yaml:3" in message and "inputs.n" in message and words in message, message


def test_bounds_reach_the_form_and_the_version() -> None:
    """The robot detail's fields carry the bounds (dates as ISO text), the JSON Schema a number's; the inputs'
    version is stable and changes when a definition changes."""
    robot = _robot()
    fields = input_fields(robot.inputs)
    assert (fields["montant"]["minimum"], fields["montant"]["maximum"]) == (1, 5000.5)
    assert (fields["jour"]["minimum"], fields["jour"]["maximum"]) == ("2026-01-01", "2026-12-31")
    assert input_schema(robot.inputs)["properties"]["montant"]["minimum"] == 1
    version = inputs_version(robot.inputs)
    assert version == inputs_version(_robot().inputs) and len(version) == 16
    changed = parse_robot(BOUNDED.replace("maximum: 5000.5", "maximum: 5000"), "robots/bornes/robot.yaml")
    assert inputs_version(changed.inputs) != version
