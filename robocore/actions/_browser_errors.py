"""Browser errors as Robocore errors (French first, secrets scrubbed) and the trace leak check."""

from __future__ import annotations

import difflib
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from robocore.actions._browser_trace import IMAGES, leak_forms
from robocore.errors import ApplicationError
from robocore.i18n import Message, current, lazy_pgettext
from robocore.i18n import gettext as _
from robocore.secrets import password_values, scrub

if TYPE_CHECKING:
    from playwright.async_api import Page

T = TypeVar("T")
# what a "not found" message names, in the reader's language
FIELD, ELEMENT, TABLE = (lazy_pgettext("browser", "Field"), lazy_pgettext("browser", "Element"),
                         lazy_pgettext("browser", "Table"))
# characters that look like others, or cannot be seen: drawn or named in "not found" messages
DRAWN = {"\u00a0": "⍽", "\u202f": "⍽", "\u2007": "⍽", "\t": "⇥"}
MAX_LABELS, CLOSE_ENOUGH = 8, 0.6
_USELESS = ("not enabled", "not visible", "not editable", "not stable", "intercepts pointer", "disabled")


def seconds(ms: int) -> str:
    """A delay for a message: 10000 gives "10 s", 2500 gives "2,5 s" in French, "2.5 s" in English."""
    text = f"{ms / 1000:g}"
    return (text if current() == "en" else text.replace(".", ",")) + " s"


def _hint(exc: BaseException | None) -> str:
    """Why Playwright could not use an element it found, from its call log (scrubbed later)."""
    lines = [ln.strip(" -") for ln in str(exc or "").splitlines() if ln.strip().startswith("-")]
    useful = [ln for ln in lines if any(word in ln for word in _USELESS)]
    return _(" — state: {state}", state=useful[-1]) if useful else ""


def not_found(what: Message, name: str, page: Page, ms: int, exc: BaseException | None = None) -> ApplicationError:
    """`Champ « Montant » introuvable sur URL (délai 10 s)` in the active language, scrubbed."""
    return ApplicationError(scrub(_("{what} “{name}” not found on {url} (timeout {timeout}){hint}", what=what,
                                    name=name, url=page.url, timeout=seconds(ms), hint=_hint(exc))))


def shown(text: str) -> str:
    """A page's text in « », exact: no-break spaces drawn as ⍽, look-alike characters named (’ U+2019)."""
    marks = [f"{DRAWN.get(ch, ch)} U+{ord(ch):04X}" for ch in dict.fromkeys(text)
             if ch in DRAWN or (not ch.isascii() and unicodedata.category(ch)[0] in "PZ")]
    drawn = "".join(DRAWN.get(ch, ch) for ch in text)
    return f"« {drawn} »" + (f" ({', '.join(marks)})" if marks else "")


def nearest(name: str, labels: list[str], n: int = MAX_LABELS) -> list[str]:
    """The `n` labels most like `name` (case ignored), most alike first."""
    key = name.casefold()
    ranked = sorted(labels, key=lambda lbl: -difflib.SequenceMatcher(None, key, lbl.casefold()).ratio())
    return ranked[:n]


def field_not_found(name: str, page: Page, ms: int, labels: list[str]) -> ApplicationError:
    """Not found after the timeout, with the page's labels nearest to the key and the key syntaxes."""
    text = _("{what} “{name}” not found on {url} (timeout {timeout}){hint}", what=FIELD, name=name, url=page.url,
             timeout=seconds(ms), hint="")
    close = nearest(name, labels)
    if close:
        text += _(" — labels on the page: {labels}", labels=", ".join(shown(lbl) for lbl in close))
        best = close[0]
        if difflib.SequenceMatcher(None, name.casefold(), best.casefold()).ratio() >= CLOSE_ENOUGH:
            text += _(" — closest: {label}", label=shown(best))
    else:
        text += _(" — the page has no labelled field")
    text += _(" — keys: the label's text, a placeholder, css=…, xpath=… or role=textbox[name=\"…\"]")
    return ApplicationError(scrub(text))


def ambiguous_field(name: str, page: Page, n: int, elements: list[str]) -> ApplicationError:
    """Two fields or more match the key at the same level: name them, never pick one silently."""
    return ApplicationError(scrub(_(
        "Field “{name}” is ambiguous on {url}: {n} elements match ({elements}) — give a more precise label "
        "or a css=…, xpath=… or role=…[name=\"…\"] key", name=name, url=page.url, n=n,
        elements=", ".join(elements) or "?")))


def invalid_key(name: str, page: Page) -> ApplicationError:
    """An explicit key (css=, xpath=, role=) that is not a valid selector."""
    return ApplicationError(scrub(_(
        "Field key “{name}” is not a valid selector (on {url}) — write css=SELECTOR, xpath=EXPRESSION "
        "or role=ROLE[name=\"NAME\"]", name=name, url=page.url)))


def browser_error(exc: BaseException, page: Page | None) -> ApplicationError:
    """Any other Playwright error, as an ApplicationError without secret values."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if page is None:
        return ApplicationError(scrub(_("Browser error: {error}", error=first)))
    return ApplicationError(scrub(_("Browser error on {url}: {error}", url=page.url, error=first)))


async def guarded(awaitable: Awaitable[T], page: Page | None,
                  on_timeout: Callable[[BaseException], Exception]) -> T:
    """Await a Playwright call, turning its errors into Robocore errors (no unscrubbed cause)."""
    from playwright.async_api import Error
    from playwright.async_api import TimeoutError as PWTimeout

    try:
        return await awaitable
    except PWTimeout as exc:
        raise on_timeout(exc) from None
    except Error as exc:
        raise browser_error(exc, page) from None


def is_strict_violation(exc: BaseException) -> bool:
    """True when a locator matched several elements."""
    return "strict mode violation" in str(exc)


def trace_leaks(path: Path) -> bool:
    """True when a trace archive contains a password value (raw, JSON or HTML form): identifiers may stay."""
    forms = leak_forms(password_values())
    if not forms:
        return False
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(IMAGES):
                continue
            data = archive.read(info)
            if any(form in data for form in forms):
                return True
    return False
