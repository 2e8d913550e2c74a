"""The one translation mechanism of the CLI, the API and the pages: gettext catalogues, French first.

Source strings (msgids) are English, like the code; `robocore/locale/fr` holds the French,
which is shown by default, and `robocore/locale/en` the English (identity unless a wording is
polished there). Catalogues are compiled `.mo` files read by the standard library's
`gettext.GNUTranslations`: Babel is only needed to extract and compile them (`scripts/i18n.py`).

The active language lives in a context variable: a request (`robocore.server.language`) or a
command (`robo --lang en`) sets it for itself alone, concurrent requests never see each other's,
and without one the setting `ROBOCORE_LANGUAGE` (default `fr`) applies.

Messages are `str.format` templates, always formatted (a literal brace is doubled: `{{`), with
named placeholders: `_("run not found '{run_id}'", run_id=run_id)`.
Translated at once (`gettext`, `_`, `ngettext`, `pgettext`) or later (`lazy_gettext`, alias
`_l`, for module constants and for errors rendered in several languages): a `Message` keeps
its msgid and parameters and is rendered in any language (`render(message, "en")`).
Parameters that are themselves messages are rendered in the same language.
"""

from __future__ import annotations

import gettext as _gettext
import os
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path
from typing import Any, Final

import structlog

log = structlog.get_logger("robocore.i18n")

DOMAIN: Final = "robocore"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
LANGUAGES: Final = ("fr", "en")
DEFAULT: Final = "fr"

_language: ContextVar[str | None] = ContextVar("robocore_language", default=None)


# ---- the active language ----------------------------------------------------------------------------
def supported(lang: str | None) -> str | None:
    """`lang` as a supported language code (`fr`, `en`; `en-GB` → `en`), else None."""
    if not lang:
        return None
    primary = lang.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def current() -> str:
    """The language of this request or command: the one set in this context, else ROBOCORE_LANGUAGE."""
    chosen = _language.get()
    if chosen is not None:
        return chosen
    from robocore.settings import get_settings  # not at import: `robo --help` stays light

    return get_settings().language


def speaking() -> str:
    """The language of this context even when the settings cannot be read (their own error, a store that
    fails before them): the one set here, else ROBOCORE_LANGUAGE when supported, else French. Never raises."""
    chosen = _language.get()
    if chosen is not None:
        return chosen
    wanted = next((value for key, value in os.environ.items() if key.upper() == "ROBOCORE_LANGUAGE" and value), None)
    return supported(wanted) or DEFAULT


def set_language(lang: str) -> Token[str | None]:
    """Make `lang` the language of the current context; the token undoes it (`reset_language`).

    Raises:
        ValueError: the language is not one of LANGUAGES (message in both languages).
    """
    code = supported(lang)
    if code is None or code != lang.strip().lower():
        raise ValueError(render(lazy_gettext("unknown language '{lang}': expected one of {choices}",
                                             lang=lang, choices=", ".join(LANGUAGES))))
    return _language.set(code)


def reset_language(token: Token[str | None]) -> None:
    """Give the context back the language it had before `set_language`."""
    _language.reset(token)


@contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Within the block, messages are in `lang` (this context only)."""
    token = set_language(lang)
    try:
        yield lang
    finally:
        _language.reset(token)


def negotiate(accept_language: str | None, query_lang: str | None = None, default: str = DEFAULT) -> str:
    """The language to answer in: `?lang=` when supported, else the best of Accept-Language, else `default`.

    Accept-Language is read as RFC 9110 says: tags by decreasing `q` (ties in the order given),
    `q=0` excluded, `*` standing for the default; a regional tag (`en-GB`) counts as its language.
    """
    chosen = supported(query_lang)
    if chosen:
        return chosen
    for tag in _ranked(accept_language or ""):
        if tag == "*":
            return default
        chosen = supported(tag)
        if chosen:
            return chosen
    return default


def _ranked(header: str) -> list[str]:
    """The tags of an Accept-Language header, best first; malformed weights count as q=0."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):  # bounded: a header is not a workload
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and 0 < quality <= 1:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


# ---- catalogues -------------------------------------------------------------------------------------
@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of `lang` (read once); a missing one logs an error and shows the msgids."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    except OSError as exc:  # a broken installation: say so, but never fail an error page over it
        log.error("i18n.catalogue_missing", language=lang, path=str(path), error=str(exc))
        return _gettext.NullTranslations()


# ---- messages ---------------------------------------------------------------------------------------
class Message:
    """A translatable message and its parameters, rendered in the active language when shown.

    Args:
        msgid: the English source text (singular form when `plural` is given).
        plural: the English plural form; `n` chooses between the forms.
        context: a gettext context, for a msgid that needs two translations.
        params: values of the `{name}` placeholders (`n` is one of them for plurals).
    """

    __slots__ = ("msgid", "plural", "n", "context", "params")

    def __init__(self, msgid: str, *, plural: str | None = None, n: int | None = None, context: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        self.msgid, self.plural, self.n, self.context = msgid, plural, n, context
        self.params = dict(params or {})
        if plural is not None:
            self.params.setdefault("n", n)

    def render(self, lang: str | None = None) -> str:
        """The message in `lang` (default: the active language), its parameters filled in."""
        lang = lang or current()
        catalogue = translations(lang)
        if self.plural is not None:
            n = self.n or 0
            template = (catalogue.npgettext(self.context, self.msgid, self.plural, n) if self.context
                        else catalogue.ngettext(self.msgid, self.plural, n))
        else:
            template = (catalogue.pgettext(self.context, self.msgid) if self.context
                        else catalogue.gettext(self.msgid))
        values = {name: render(value, lang) if isinstance(value, Message | Bilingual) else value
                  for name, value in self.params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder: show the English
            log.error("i18n.bad_translation", language=lang, msgid=self.msgid)
            source = self.plural if self.plural is not None and self.n != 1 else self.msgid
            return source.format(**values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, params={self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, self.plural, self.n, self.context, self.params) == (
            other.msgid, other.plural, other.n, other.context, other.params)

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n, self.context))


class Bilingual:
    """A text whose French and English were written by a module not yet moved to the catalogues.

    Each side is a plain string or a Message; `render` picks the side of the language (French
    for any language but English).
    """

    __slots__ = ("fr", "en")

    def __init__(self, fr: str | Message, en: str | Message) -> None:
        self.fr, self.en = fr, en

    def render(self, lang: str | None = None) -> str:
        lang = lang or current()
        return render(self.en if lang == "en" else self.fr, lang)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Bilingual({self.fr!r}, {self.en!r})"


Text = str | Message | Bilingual


def render(text: Text, lang: str | None = None) -> str:
    """Any text in `lang` (default: the active language); a plain string is shown as it is."""
    return text if isinstance(text, str) else text.render(lang)


def placeholders(template: str) -> set[str]:
    """The names of the `{name}` placeholders of a message (`{{` is a literal brace)."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template)
            if field is not None}


# ---- the gettext functions --------------------------------------------------------------------------
def lazy_gettext(msgid: str, **params: Any) -> Message:
    """A message translated when shown (module constants, errors answered in several languages)."""
    return Message(msgid, params=params)


def lazy_ngettext(singular: str, plural: str, n: int, **params: Any) -> Message:
    """A message with plural forms, translated when shown; `{n}` is available in both forms."""
    return Message(singular, plural=plural, n=n, params=params)


def lazy_pgettext(context: str, msgid: str, **params: Any) -> Message:
    """A message in a context (the same English words translated two ways), translated when shown."""
    return Message(msgid, context=context, params=params)


def lazy_npgettext(context: str, singular: str, plural: str, n: int, **params: Any) -> Message:
    """A message in a context with plural forms, translated when shown."""
    return Message(singular, plural=plural, n=n, context=context, params=params)


def gettext(msgid: str, **params: Any) -> str:
    """`msgid` in the active language, its `{name}` placeholders filled from `params`."""
    return Message(msgid, params=params).render()


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """The form for `n` in the active language (`1 élément`, `2 éléments`); `{n}` is available."""
    return Message(singular, plural=plural, n=n, params=params).render()


def pgettext(context: str, msgid: str, **params: Any) -> str:
    """`msgid` as translated in `context`, in the active language."""
    return Message(msgid, context=context, params=params).render()


def npgettext(context: str, singular: str, plural: str, n: int, **params: Any) -> str:
    """The form for `n` of a message in a context, in the active language."""
    return Message(singular, plural=plural, n=n, context=context, params=params).render()


def N_(msgid: str) -> str:
    """Mark `msgid` for the catalogues and give it back untranslated (no-op marker).

    For texts translated where they are shown rather than where they are written: the CLI's help
    (`robocore.cli.help_text` translates the command tree) and the API's OpenAPI summaries and
    descriptions (translated per request language when `/openapi.json` is served).
    """
    return msgid


_ = gettext
_l = lazy_gettext


def install_jinja(env: Any) -> None:
    """Give a Jinja2 environment (with the `jinja2.ext.i18n` extension) our catalogues, newstyle.

    Templates then write `{{ _("Hours saved in %(year)s", year=year) }}` or `{% trans %}` blocks
    (Jinja's newstyle gettext uses `%(name)s` placeholders and escapes the values); the active
    language is read at each call, so one environment serves every request.
    """
    env.install_gettext_callables(
        gettext=lambda message: translations(current()).gettext(message),
        ngettext=lambda singular, plural, n: translations(current()).ngettext(singular, plural, n),
        pgettext=lambda context, message: translations(current()).pgettext(context, message),
        npgettext=lambda context, singular, plural, n: translations(current()).npgettext(context, singular,
                                                                                            plural, n),
        newstyle=True)


__all__ = ["DEFAULT", "LANGUAGES", "N_", "Bilingual", "Message", "Text", "_", "_l", "current", "gettext",
           "install_jinja", "lazy_gettext", "lazy_ngettext", "lazy_npgettext", "lazy_pgettext", "negotiate", "ngettext",
           "npgettext", "pgettext", "render", "reset_language", "set_language", "supported", "use_language"]
