"""Our own words for a value pydantic refused, chosen by the error's type, never its message.

pydantic's messages are English and change between releases; users read these, and tests
assert them. An error type we have no words for keeps pydantic's message, after ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_Words = Callable[[Mapping[str, Any]], str]


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _expected(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace(" or ", " ou ")


_BY_TYPE: dict[str, _Words] = {
    "float_parsing": lambda c: "nombre attendu / a number expected",
    "float_type": lambda c: "nombre attendu / a number expected",
    "finite_number": lambda c: "nombre fini attendu / a finite number expected",
    "int_parsing": lambda c: "nombre entier attendu / an integer expected",
    "int_type": lambda c: "nombre entier attendu / an integer expected",
    "int_from_float": lambda c: "nombre entier attendu (sans décimales) / an integer expected",
    "bool_parsing": lambda c: "booléen attendu (true ou false) / a boolean expected",
    "bool_type": lambda c: "booléen attendu (true ou false) / a boolean expected",
    "string_type": lambda c: "texte attendu / a text expected",
    "list_type": lambda c: "liste attendue / a list expected",
    "dict_type": lambda c: "table de clés attendue / a mapping expected",
    "model_type": lambda c: "table de clés attendue / a mapping expected",
    "model_attributes_type": lambda c: "table de clés attendue / a mapping expected",
    "date_parsing": lambda c: "date attendue (AAAA-MM-JJ) / a date expected",
    "date_from_datetime_parsing": lambda c: "date attendue (AAAA-MM-JJ) / a date expected",
    "datetime_parsing": lambda c: "date et heure attendues / a date and time expected",
    "datetime_from_date_parsing": lambda c: "date et heure attendues / a date and time expected",
    "path_type": lambda c: "chemin de fichier attendu / a path expected",
    "url_parsing": lambda c: "adresse web attendue / a URL expected",
    "url_scheme": lambda c: f"adresse web attendue, schéma {_expected(c)} / a URL expected",
    "literal_error": lambda c: f"valeur attendue parmi {_expected(c)} / one of the allowed values expected",
    "enum": lambda c: f"valeur attendue parmi {_expected(c)} / one of the allowed values expected",
    "missing": lambda c: "paramètre obligatoire manquant / missing parameter",
    "extra_forbidden": lambda c: "clé inconnue / unknown key",
    "greater_than": lambda c: f"valeur attendue > {_number(c.get('gt'))} / too small",
    "greater_than_equal": lambda c: f"valeur attendue ≥ {_number(c.get('ge'))} / too small",
    "less_than": lambda c: f"valeur attendue < {_number(c.get('lt'))} / too large",
    "less_than_equal": lambda c: f"valeur attendue ≤ {_number(c.get('le'))} / too large",
    "string_too_short": lambda c: f"texte trop court (au moins {c.get('min_length')}) / too short",
    "string_too_long": lambda c: f"texte trop long (au plus {c.get('max_length')}) / too long",
    "too_short": lambda c: f"trop peu d'éléments (au moins {c.get('min_length')}) / too short",
    "too_long": lambda c: f"trop d'éléments (au plus {c.get('max_length')}) / too long",
}


def describe(error: Mapping[str, Any]) -> str:
    """Our message for one pydantic error (an item of `ValidationError.errors()`)."""
    words = _BY_TYPE.get(str(error.get("type", "")))
    if words is None:
        return f"valeur refusée / value refused ({error.get('msg', '')})"
    return words(error.get("ctx") or {})


__all__ = ["describe"]
