"""The pages' Jinja2 environment: package templates, HTML always escaped, a missing variable an error.

One environment for the process. The theme (`neutral` or `dsfr`, ROBOCORE_THEME) and the
page language (ROBOCORE_LANGUAGE unless the caller names one) are variables of each
render, so that the French formats (`hours`, `number`, `percent`, `day`, `moment`, `month`
filters) follow the language of the page being drawn. Globals: `static_url`, `vendor_url`,
`chart_layout` (robocore.web.charts); `service_name` (ROBOCORE_SERVICE_NAME) is a variable of each render.

Theme rule: the DSFR (the State design system, with the Marianne block "République
Française") is reserved to State services; it is loaded only when the setting says
`dsfr`. The neutral theme loads no DSFR file at all (not even its fonts).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, pass_context, select_autoescape
from jinja2.runtime import Context

from robocore import i18n
from robocore.settings import get_settings
from robocore.web import charts, formatting
from robocore.web.static import static_url, vendor_url

THEMES = ("neutral", "dsfr")
SERVICE_TAGLINE = i18n.lazy_gettext("Working hours saved by the robots")  # shown in the page's language


def _formatter(function: Callable[[Any, str], str]) -> Callable[[Context, Any], str]:
    """A filter formatting in the language of the page being rendered (its `lang` variable)."""

    @pass_context
    def apply(context: Context, value: Any) -> str:
        return function(value, context["lang"])

    return apply


@pass_context
def _number(context: Context, value: Any, places: int = 1) -> str:
    """`number` takes the decimals shown: `{{ x | number(2) }}`."""
    return formatting.format_number(value, context["lang"], places)


@cache
def environment() -> Environment:
    """The shared environment (templates from robocore/web/templates)."""
    env = Environment(loader=PackageLoader("robocore.web", "templates"),
                      autoescape=select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    i18n.install_jinja(env)
    env.filters.update({name: _formatter(function) for name, function in formatting.FORMATS.items()})
    env.filters["number"] = _number
    env.globals.update(static_url=static_url, vendor_url=vendor_url, chart_layout=charts.layout,
                       service_tagline=SERVICE_TAGLINE)
    return env


def render(template: str | Template, *, theme: str | None = None, lang: str | None = None, **values: Any) -> str:
    """A page: `template` with `values`, in `theme` and `lang` (default: the settings').

    Args:
        template: a template name, or a Template of this environment (`environment().from_string`).
        values: the template's variables; `user` (the signed-in person's name, or None) is
            expected by base.html and defaults to None.
    """
    chosen = theme or get_settings().theme
    if chosen not in THEMES:
        raise ValueError(f"thème inconnu {chosen!r} (neutral ou dsfr) / unknown theme {chosen!r} (neutral or dsfr)")
    language = lang or get_settings().language
    formatting.locale_of(language)
    values.setdefault("user", None)
    values.setdefault("service_name", get_settings().service_name)
    page = environment().get_template(template) if isinstance(template, str) else template
    with i18n.use_language(language):  # `_` and lazy messages follow the page's language
        return page.render(theme=chosen, lang=language, **values)
