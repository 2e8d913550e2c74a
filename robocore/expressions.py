"""Sandboxed Jinja2 expressions; a value made of one expression keeps its native type."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from robocore.errors import ExpressionError
from robocore.i18n import gettext as _
from robocore.secrets import Secret

_SINGLE = re.compile(r"^ *\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\} *\Z", re.S)  # surrounding newlines make it text
_used_secret: contextvars.ContextVar[bool] = contextvars.ContextVar("used_secret", default=False)


def _finalize(value: Any) -> Any:
    if isinstance(value, Secret):
        _used_secret.set(True)
        return value.reveal()
    return value


MAX_REPEAT = 1_000_000


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, and no attribute of a Secret: `.reveal()` would leak it as plain text."""

    intercepted_binops = frozenset(["*", "**"])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, Secret):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Bound `*` and `**` so that an expression cannot build a huge value ('a' * 10**9)."""
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 1000:
            raise SecurityError(_("exponent too large ({exponent})", exponent=right))
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_REPEAT:
                    raise SecurityError(_("repetition too large (> {limit})", limit=MAX_REPEAT))
        return super().call_binop(context, operator, left, right)


def _make_env() -> ImmutableSandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, finalize=_finalize,
                                        autoescape=False, keep_trailing_newline=True)
    env.filters["french_number"] = lambda v, d=2: f"{float(v):,.{d}f}".replace(",", " ").replace(".", ",")
    return env


_ENV = _make_env()


@lru_cache(maxsize=4096)
def _compile_expression(expr: str) -> Any:
    return _ENV.compile_expression(expr, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _compile_template(text: str) -> Any:
    return _ENV.from_string(text)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return _("refused by the sandbox: {error}", error=exc)
    if isinstance(exc, UndefinedError):
        return _("undefined value: {error}", error=exc.message)
    if isinstance(exc, TemplateSyntaxError):
        return _("syntax error: {error}", error=exc.message)
    return f"{type(exc).__name__}: {exc}"


def evaluate(text: str, scope: Mapping[str, Any], where: str = "") -> Any:
    """Evaluate one robot value: a single {{ expr }} keeps its type, other text renders to str.

    Args:
        text: the value as written in the robot file.
        scope: inputs, secrets, steps, the loop variable, run.
        where: "robot › step" used in error messages.
    """
    if "{{" not in text and "{%" not in text:
        return text
    match = _SINGLE.match(text)
    try:
        if match:
            value = _compile_expression(match.group("expr").strip())(**scope)
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()  # a refused attribute is an Undefined
            return value
        token = _used_secret.set(False)
        try:
            rendered = _compile_template(text).render(**scope)
            return Secret(rendered, "template") if _used_secret.get() else rendered
        finally:
            _used_secret.reset(token)
    except Exception as exc:  # every failure becomes a message naming robot, step, text
        raise ExpressionError(f"{where}: expression « {text.strip()} » : {_describe(exc)}") from None


def render(value: Any, scope: Mapping[str, Any], where: str = "") -> Any:
    """Evaluate every string inside nested dicts and lists."""
    if isinstance(value, str):
        return evaluate(value, scope, where)
    if isinstance(value, dict):
        return {k: render(v, scope, where) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope, where) for v in value]
    return value


def check_syntax(text: str) -> str | None:
    """Return a syntax error message for a robot value, or None when it parses."""
    if "{{" not in text and "{%" not in text:
        return None
    match = _SINGLE.match(text)
    try:
        if match:
            _compile_expression(match.group("expr").strip())
        else:
            _compile_template(text)
    except TemplateSyntaxError as exc:
        return _("expression “{text}”: syntax error: {error}", text=text.strip(), error=exc.message)
    except RecursionError:  # e.g. 10,000 nested brackets: refused, never a traceback
        return _("expression “{text}…”: nested too deeply", text=text.strip()[:80])
    return None


def truthy(value: Any) -> bool:
    """How a `when:` result is read: text 'false', 'non', '0' and '' are false."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "faux", "non", "no", "0", "none")
    return bool(value)
