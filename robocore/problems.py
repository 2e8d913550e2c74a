"""Our own words for a value pydantic refused, chosen by the error's type, never its message.

pydantic's messages are English and change between releases; users read these, and tests
assert them. An error type we have no words for keeps pydantic's message, after ours.
Words are lazy messages of the catalogues (robocore.i18n): shown in the reader's language. The
settings describe their own refused values with them, so choosing that language must not read
the settings again while they are being read (French, the default, then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from robocore.i18n import DEFAULT, Message, current
from robocore.i18n import lazy_gettext as _l

_Words = Callable[[Mapping[str, Any]], Message]
_choosing: ContextVar[bool] = ContextVar("robocore_problems_choosing", default=False)


def _language() -> str:
    """The active language; the default one when the settings cannot tell (they are what failed)."""
    if _choosing.get():  # the settings, being read, describe a refused value of theirs
        return DEFAULT
    token = _choosing.set(True)
    try:
        return current()
    except Exception:  # a wrong ROBOCORE_* value: its own error is raised by the settings
        return DEFAULT
    finally:
        _choosing.reset(token)


class _Problem(Message):
    """Our words for one refused value, rendered without reading broken settings."""

    __slots__ = ()

    def render(self, lang: str | None = None) -> str:
        return super().render(lang or _language())


def _safe(message: Message) -> _Problem:
    return _Problem(message.msgid, params=message.params)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _expected(ctx: Mapping[str, Any]) -> str | Message:
    """pydantic's `'a', 'b' or 'c'`, its last `or` in the reader's language."""
    choices = str(ctx.get("expected", ""))
    first, found, last = choices.rpartition(" or ")
    return _l("{choices} or {last}", choices=first, last=last) if found else choices


_NUMBER = _l("a number expected")
_INTEGER = _l("an integer expected")
_BOOLEAN = _l("a boolean expected (true or false)")
_MAPPING = _l("a mapping expected")
_DATE = _l("a date expected (YYYY-MM-DD)")
_DATETIME = _l("a date and time expected")

_BY_TYPE: dict[str, _Words] = {
    "float_parsing": lambda c: _NUMBER,
    "float_type": lambda c: _NUMBER,
    "finite_number": lambda c: _l("a finite number expected"),
    "int_parsing": lambda c: _INTEGER,
    "int_type": lambda c: _INTEGER,
    "int_from_float": lambda c: _l("an integer expected (no decimals)"),
    "bool_parsing": lambda c: _BOOLEAN,
    "bool_type": lambda c: _BOOLEAN,
    "string_type": lambda c: _l("a text expected"),
    "list_type": lambda c: _l("a list expected"),
    "dict_type": lambda c: _MAPPING,
    "model_type": lambda c: _MAPPING,
    "model_attributes_type": lambda c: _MAPPING,
    "date_parsing": lambda c: _DATE,
    "date_from_datetime_parsing": lambda c: _DATE,
    "datetime_parsing": lambda c: _DATETIME,
    "datetime_from_date_parsing": lambda c: _DATETIME,
    "path_type": lambda c: _l("a file path expected"),
    "url_parsing": lambda c: _l("a URL expected"),
    "url_scheme": lambda c: _l("a URL expected, scheme {expected}", expected=_expected(c)),
    "literal_error": lambda c: _l("one of {expected} expected", expected=_expected(c)),
    "enum": lambda c: _l("one of {expected} expected", expected=_expected(c)),
    "missing": lambda c: _l("missing parameter"),
    "extra_forbidden": lambda c: _l("unknown key"),
    "greater_than": lambda c: _l("a value > {limit} expected", limit=_number(c.get("gt"))),
    "greater_than_equal": lambda c: _l("a value ≥ {limit} expected", limit=_number(c.get("ge"))),
    "less_than": lambda c: _l("a value < {limit} expected", limit=_number(c.get("lt"))),
    "less_than_equal": lambda c: _l("a value ≤ {limit} expected", limit=_number(c.get("le"))),
    "string_too_short": lambda c: _l("text too short (at least {n})", n=c.get("min_length")),
    "string_too_long": lambda c: _l("text too long (at most {n})", n=c.get("max_length")),
    "too_short": lambda c: _l("too few elements (at least {n})", n=c.get("min_length")),
    "too_long": lambda c: _l("too many elements (at most {n})", n=c.get("max_length")),
}


def describe(error: Mapping[str, Any]) -> Message:
    """Our message for one pydantic error (an item of `ValidationError.errors()`), in the reader's language."""
    words = _BY_TYPE.get(str(error.get("type", "")))
    if words is None:
        return _safe(_l("value refused ({detail})", detail=error.get("msg", "")))
    return _safe(words(error.get("ctx") or {}))


__all__ = ["describe"]
