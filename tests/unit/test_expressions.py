"""Sandboxed Jinja2 expressions: native types, string rendering, and no way out of the sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from robocore.errors import ExpressionError
from robocore.expressions import check_syntax, evaluate, render, truthy
from robocore.secrets import MASK, Secret

WHERE = "saisie-demandes › remplir"


def _scope() -> dict[str, Any]:
    return {
        "inputs": {"nombre": 42, "jour": dt.date(2026, 3, 14), "noms": ["Ada", "Alan"],
                   "fiche": {"Nom": "Mairie", "Montant": 12.5}, "texte": "bonjour"},
        "steps": {"lecture": {"rows": [{"Numéro": "A1"}, {"Numéro": "A2"}], "count": 2}},
        "secrets": {"compte": {"password": Secret("S3cr3t-expr-0001", "compte.password")}},
        "run": {"id": "abc"},
    }


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ inputs.nombre }}", 42),
    ("{{ inputs.jour }}", dt.date(2026, 3, 14)),
    ("{{ inputs.noms }}", ["Ada", "Alan"]),
    ("{{ inputs.fiche }}", {"Nom": "Mairie", "Montant": 12.5}),
    ("  {{ inputs.nombre + 1 }}  ", 43),
    ("{{ steps.lecture.rows }}", [{"Numéro": "A1"}, {"Numéro": "A2"}]),
    ("{{ inputs.fiche['Montant'] * 2 }}", 25.0),
    ("{{ inputs.nombre > 40 }}", True),
    ("{{ none }}", None),
])
def test_single_expression_keeps_its_native_type(text: str, expected: Any) -> None:
    """A value made of one {{ expression }} keeps its Python type (int, date, list, dict, bool, None)."""
    value = evaluate(text, _scope(), WHERE)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("n={{ inputs.nombre }}", "n=42"),
    ("{{ inputs.nombre }}{{ inputs.nombre }}", "4242"),
    ("Le {{ inputs.jour }}", "Le 2026-03-14"),
    ("{% for n in inputs.noms %}{{ n }};{% endfor %}", "Ada;Alan;"),
    ("{{ inputs.texte | upper }} !", "BONJOUR !"),
    ("{{ 1234.5 | french_number }} €", "1 234,50 €"),
    ("sans expression", "sans expression"),
])
def test_text_with_expressions_renders_to_a_string(text: str, expected: str) -> None:
    """A value that mixes text and expressions (or statements) renders to a str."""
    assert evaluate(text, _scope(), WHERE) == expected


def test_render_walks_nested_values() -> None:
    """render() evaluates every string inside nested dicts and lists, keeping other values."""
    value = {"a": "{{ inputs.nombre }}", "b": ["x{{ inputs.nombre }}", 3], "c": True}
    assert render(value, _scope(), WHERE) == {"a": 42, "b": ["x42", 3], "c": True}


ESCAPES = [
    "{{ inputs.__class__ }}",
    "{{ inputs.fiche.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ __import__('os').system('true') }}",
    "{% import 'os' as os %}{{ os }}",
    "{{ ''.__class__.mro() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('true') }}",
    "{{ self._TemplateReference__context }}",
    "x {{ self.__init__.__globals__ }}",
    "{{ inputs.fiche.update({'Nom': 'pirate'}) }}",
    "{{ inputs.noms.append('pirate') }}",
    "{{ inputs.fiche | attr('__class__') }}",
    "{{ inputs.fiche.get.__self__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ secrets.compte.password._value }}",
    "{{ secrets.compte.password.reveal() }}",
    "{{ range(10 ** 9) | list }}",
]


@pytest.mark.parametrize("text", ESCAPES)
def test_escape_attempt_fails_with_expression_error(text: str) -> None:
    """Python internals, a scope mutation or a secret's clear value: an ExpressionError naming where and what."""
    scope = _scope()
    with pytest.raises(ExpressionError) as info:
        evaluate(text, scope, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}:")
    assert text.strip() in message
    assert scope == _scope()  # nothing was mutated


def test_undefined_variable_is_named() -> None:
    """An unknown name or attribute fails with an ExpressionError that names it."""
    with pytest.raises(ExpressionError) as info:
        evaluate("Bonjour {{ demande.Nom }}", _scope(), WHERE)
    assert "demande" in str(info.value) and WHERE in str(info.value)
    with pytest.raises(ExpressionError) as info:
        evaluate("{{ inputs.inconnu }}", _scope(), WHERE)
    assert "inconnu" in str(info.value) and "{{ inputs.inconnu }}" in str(info.value)


def test_runtime_error_becomes_expression_error() -> None:
    """A failing operation (division by zero) is an ExpressionError, not a raw Python error."""
    with pytest.raises(ExpressionError) as info:
        evaluate("{{ inputs.nombre / 0 }}", _scope(), WHERE)
    assert "ZeroDivisionError" in str(info.value)


def test_secret_stays_masked_in_expressions() -> None:
    """A single secret expression keeps the Secret; a text holding one becomes a Secret, masked in str()."""
    scope = _scope()
    single = evaluate("{{ secrets.compte.password }}", scope, WHERE)
    assert isinstance(single, Secret) and single.reveal() == "S3cr3t-expr-0001"
    mixed = evaluate("mdp={{ secrets.compte.password }}", scope, WHERE)
    assert isinstance(mixed, Secret)
    assert mixed.reveal() == "mdp=S3cr3t-expr-0001"
    assert str(mixed) == MASK and "S3cr3t" not in repr(mixed)
    filtered = evaluate("{{ secrets.compte.password | upper }}", scope, WHERE)
    assert "S3CR3T" not in str(filtered)


@pytest.mark.parametrize(("text", "ok"), [
    ("{{ inputs.nom }}", True),
    ("a {{ b }} c {% if x %}y{% endif %}", True),
    ("pas d'expression {", True),
    ("{{ inputs.nom | upper( }}", False),
    ("{% for x in %}", False),
    ("{{ " + "(" * 20_000 + "1" + ")" * 20_000 + " }}", False),
])
def test_check_syntax(text: str, ok: bool) -> None:
    """check_syntax returns None for valid text and a message (never an exception) otherwise."""
    message = check_syntax(text)
    assert (message is None) is ok
    if not ok:
        assert "syntaxe invalide" in message or "trop imbriquée" in message  # type: ignore[operator]


@pytest.mark.parametrize(("value", "expected"), [
    ("false", False), ("Non", False), ("0", False), ("", False), ("oui", True), ("x", True),
    (0, False), (1, True), ([], False), ([0], True), (None, False),
])
def test_truthy(value: Any, expected: bool) -> None:
    """`when:` reads text 'false', 'non', '0' and '' as false, other values by Python truth."""
    assert truthy(value) is expected
