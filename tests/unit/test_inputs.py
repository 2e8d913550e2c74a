"""Run inputs are bounded: numbers finite, text no longer than ROBOCORE_INPUT_MAX_CHARS, both named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from robocore.i18n import use_language
from robocore.inputs import InputError, resolve_inputs
from robocore.spec import Robot


def _robot() -> Robot:
    return Robot.model_validate({
        "robot": "bornes", "title": "Bornes",
        "inputs": {"montant": {"type": "number", "label": "Montant"},
                   "note": {"type": "text", "label": "Note", "required": False}},
        "steps": [{"use": "flow.log", "with": {"message": "x"}}]})


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1e309", "-1e400", "1" + "0" * 400,
                                   float("nan"), float("inf"), float("-inf")])
def test_numbers_must_be_finite(value: Any, tmp_path: Path) -> None:
    """nan, infinities and overflowing numbers (text or float, as JSON NaN arrives) are refused, named."""
    with pytest.raises(InputError) as caught:
        resolve_inputs(_robot(), {"montant": value}, tmp_path)
    assert str(caught.value).startswith("entrée « Montant » (montant) : nombre fini attendu")
    with use_language("en"):
        assert str(caught.value).startswith("input “Montant” (montant): finite number expected")


def test_a_non_finite_float_is_refused_for_any_type(tmp_path: Path) -> None:
    """A JSON NaN given to a text input is refused too: it would reach the store as a float."""
    with pytest.raises(InputError, match="« Note » \\(note\\) : nombre fini attendu"):
        resolve_inputs(_robot(), {"montant": 1, "note": float("nan")}, tmp_path)


def test_finite_numbers_still_read_the_french_way(tmp_path: Path) -> None:
    """`1 234,5`, a no-break space, 1e308 and an integer stay accepted."""
    for given, expected in (("1 234,5", 1234.5), ("1\u00a0234", 1234), ("12", 12), (3.25, 3.25)):
        assert resolve_inputs(_robot(), {"montant": given}, tmp_path)["montant"] == expected
    assert resolve_inputs(_robot(), {"montant": "1e308"}, tmp_path)["montant"] == int(1e308)


def test_text_is_bounded_by_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text of ROBOCORE_INPUT_MAX_CHARS characters passes; one more is refused naming input and limit."""
    monkeypatch.setenv("ROBOCORE_INPUT_MAX_CHARS", "20")
    assert resolve_inputs(_robot(), {"montant": 1, "note": "é" * 20}, tmp_path)["note"] == "é" * 20
    with pytest.raises(InputError) as caught:
        resolve_inputs(_robot(), {"montant": 1, "note": "é" * 21}, tmp_path)
    assert str(caught.value) == "entrée « Note » (note) : 21 caractères, 20 au plus (ROBOCORE_INPUT_MAX_CHARS)"
    with pytest.raises(InputError, match="« Montant » \\(montant\\) : 21 caractères"):
        resolve_inputs(_robot(), {"montant": "1" * 21}, tmp_path)


def test_default_limit_refuses_a_huge_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default setting (10,000 characters) a megabyte of text is refused."""
    monkeypatch.delenv("ROBOCORE_INPUT_MAX_CHARS", raising=False)
    with pytest.raises(InputError, match="1000000 caractères, 10000 au plus"):
        resolve_inputs(_robot(), {"montant": 1, "note": "x" * 1_000_000}, tmp_path)


def test_an_integer_too_long_to_print_is_refused(tmp_path: Path) -> None:
    """An integer of 5,000 digits (a YAML schedule may hold one) is refused by name, not a crash."""
    with pytest.raises(InputError, match="« Note » \\(note\\) : nombre de plus de 4 300 chiffres"):
        resolve_inputs(_robot(), {"montant": 1, "note": 10 ** 5000}, tmp_path)


def _with_default(default: Any, kind: str = "text") -> Robot:
    return Robot.model_validate({
        "robot": "vide", "title": "Vide", "inputs": {"suffixe": {"type": kind, "label": "Suffixe", "default": default}},
        "steps": [{"use": "flow.log", "with": {"message": "x"}}]})


def test_a_text_input_whose_default_is_empty_is_not_missing(tmp_path: Path) -> None:
    """`default: ""` declares that an empty text will do: neither the default nor an empty value is missing."""
    assert resolve_inputs(_with_default(""), {}, tmp_path) == {"suffixe": ""}
    assert resolve_inputs(_with_default(""), {"suffixe": ""}, tmp_path) == {"suffixe": ""}
    assert resolve_inputs(_with_default(""), {"suffixe": "-b"}, tmp_path) == {"suffixe": "-b"}


def test_an_empty_value_is_still_missing_without_that_default(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Suffixe"):
        resolve_inputs(_with_default(None), {"suffixe": ""}, tmp_path)
    with pytest.raises(InputError, match="Suffixe"):  # a number has no empty value
        resolve_inputs(_with_default("", "number"), {}, tmp_path)
