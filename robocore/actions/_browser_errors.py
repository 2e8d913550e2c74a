"""Browser errors as Robocore errors (French first, secrets scrubbed) and the trace leak check."""

from __future__ import annotations

import html
import json
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from robocore.errors import ApplicationError
from robocore.i18n import Message, current, lazy_pgettext
from robocore.i18n import gettext as _
from robocore.secrets import known_values, scrub

if TYPE_CHECKING:
    from playwright.async_api import Page

T = TypeVar("T")
# what a "not found" message names, in the reader's language
FIELD, ELEMENT, TABLE = (lazy_pgettext("browser", "Field"), lazy_pgettext("browser", "Element"),
                         lazy_pgettext("browser", "Table"))
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
    """True when a trace archive contains any registered secret value (raw, JSON or HTML form)."""
    forms: set[bytes] = set()
    for value in known_values():
        for form in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
                     html.escape(value)):
            forms.add(form.encode())
    if not forms:
        return False
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith((".jpeg", ".jpg", ".png", ".webp")):
                continue
            data = archive.read(info)
            if any(form in data for form in forms):
                return True
    return False
