"""robocore.problems: a refused value is described in our words, chosen by pydantic's error type."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from robocore.i18n import use_language
from robocore.problems import describe


def _error(annotation: object, value: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(annotation).validate_python(value)
    return dict(info.value.errors()[0])


@pytest.mark.parametrize(("annotation", "value", "words"), [
    (float, "douze", "nombre attendu"),
    (int, 2.5, "nombre entier attendu"),
    (bool, "peut-être", "booléen attendu"),
    (list[str], "texte", "liste attendue"),
    (Literal["rapide", "lent"], "turbo", "valeur attendue parmi 'rapide' ou 'lent'"),
])
def test_known_error_types_get_our_words(annotation: object, value: object, words: str) -> None:
    """A refused number, integer, boolean, list or choice is described in French first, naming the choices."""
    assert str(describe(_error(annotation, value))).startswith(words)


def test_unknown_error_type_keeps_the_library_message_after_ours() -> None:
    """An error type we have no words for says it was refused and keeps the original message for detail."""
    message = describe({"type": "nouveau_type", "msg": "detail", "ctx": {}})
    assert str(message) == "valeur refusée (detail)"


def test_the_same_words_in_english() -> None:
    """With the language set to English, the same refusal reads in English, its choices joined by "or"."""
    error = _error(Literal["rapide", "lent"], "turbo")
    with use_language("en"):
        assert str(describe(error)) == "one of 'rapide' or 'lent' expected"
        assert str(describe(_error(int, 2.5))) == "an integer expected (no decimals)"
    assert str(describe(error)) == "valeur attendue parmi 'rapide' ou 'lent'"
