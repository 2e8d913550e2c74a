"""Built-in browser actions (Playwright, async): fill web forms the way an agent sees them.

Fields are found as a person finds them (robocore.actions._browser_find): a tied label (exact,
then loosely), a text beside the field (DOM order and layout), placeholder, ARIA name, then
explicit `css=`, `xpath=`, `role=ROLE[name="…"]` keys or bare CSS. The strategy found for a field
on a page is cached for the run, so later items cost no more round-trips than a hand-written script.
Values are converted by the input's type: dates to yyyy-mm-dd in <input type=date> and to
dd/mm/yyyy in text fields; numbers with a decimal point in <input type=number> and a decimal
comma in text fields; booleans check or uncheck check boxes; a <select> or a radio group takes
an option's label or value; a file input takes a path. See _browser_session for the lifecycle,
masking and tracing rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

from robocore.actions._browser_errors import (
    ELEMENT,
    TABLE,
    browser_error,
    guarded,
    is_strict_violation,
    not_found,
    seconds,
)
from robocore.actions._browser_session import Located, Session, session_for, url_key
from robocore.actions._browser_values import _match, to_text, truthy
from robocore.context import Context
from robocore.errors import ApplicationError, BusinessError, RobotDefinitionError
from robocore.i18n import gettext as _
from robocore.plugins import action
from robocore.secrets import Secret, password_values, scrub

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

OPTIONS_JS = "els => els.length ? Array.from(els[0].options || [], o => [o.value, o.label]) : null"
TABLE_JS = """t => {
  const rows = Array.from(t.rows), grid = [];
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  rows.forEach((r, ri) => { grid[ri] = grid[ri] || []; let ci = 0;
    for (const c of r.cells) {
      while (grid[ri][ci] !== undefined) ci++;
      const text = clean(c.innerText), cs = Math.max(1, c.colSpan || 1), rs = Math.max(1, c.rowSpan || 1);
      for (let dr = 0; dr < rs && ri + dr < rows.length; dr++) {
        grid[ri + dr] = grid[ri + dr] || [];
        for (let dc = 0; dc < cs; dc++) grid[ri + dr][ci + dc] = text;
      }
      ci += cs;
    } });
  const head = t.tHead ? t.tHead.rows.length : (rows.length ? 1 : 0);
  return {grid: grid.map(r => Array.from(r, x => x === undefined ? '' : x)), head};
}"""


async def _option_value(session: Session, located: Located, name: str, text: str, ms: int) -> str:
    """The option value to select, from the list's options read once per page and field."""
    assert session.page is not None
    key = (url_key(session.page.url), name)
    options = session.runtime.options.get(key)
    value = _match(options, text) if options else None
    if value is None:  # first time on this page, or the list changed: read it (one round-trip)
        options = await located.loc.evaluate_all(OPTIONS_JS)
        if options is None:
            await located.loc.wait_for(state="attached", timeout=ms)
            options = await located.loc.evaluate_all(OPTIONS_JS) or []
        session.runtime.options[key] = options
        value = _match(options, text)
        if value is None:  # not found even in the list just read
            labels = ", ".join(lbl.strip() for v, lbl in options if v or lbl.strip())
            raise BusinessError(scrub(_("Value “{value}” not in the list “{field}” (choices: {choices})", value=text,
                                        field=name, choices=labels)))
    return value


async def _choose(session: Session, located: Located, name: str, value: Any, ms: int) -> str:
    """Select an option of a <select>, a radio of a group or an option of an ARIA combobox."""
    text = to_text(value, "text")
    if located.kind == "select":
        chosen = await _option_value(session, located, name, text, ms)
        await located.loc.select_option(value=chosen, timeout=ms)
        return chosen
    if located.kind == "group":
        option = located.loc.get_by_label(text, exact=True)
        from playwright.async_api import TimeoutError as PWTimeout

        try:
            await option.check(timeout=ms)
        except PWTimeout:
            labels = await located.loc.locator("label").all_inner_texts()
            if not any(lbl.strip() == text.strip() for lbl in labels):
                choices = ", ".join(lbl.strip() for lbl in labels)
                raise BusinessError(scrub(_("Value “{value}” not among the choices of “{field}” (choices: {choices})",
                                            value=text, field=name, choices=choices))) from None
            raise
        return text
    assert session.page is not None
    await located.loc.click(timeout=ms)  # a custom combobox: open it, then pick the option
    await session.page.get_by_role("option", name=text, exact=True).click(timeout=ms)
    return text


async def _upload(ctx: Context, session: Session, located: Located, value: Any, ms: int) -> list[str]:
    """Give files to a file input, or to the file chooser a custom button opens."""
    items = value if isinstance(value, list) else [value]
    paths = [ctx.path(str(p)) for p in items]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise BusinessError(_("file not found: {path}", path=missing[0]))
    if located.kind == "file":
        await located.loc.set_input_files(paths, timeout=ms)
    else:  # a custom button that opens the file chooser
        assert session.page is not None
        async with session.page.expect_file_chooser(timeout=ms) as chooser:
            await located.loc.click(timeout=ms)
        await (await chooser.value).set_files(paths, timeout=ms)
    return [str(p) for p in paths]


async def _put(ctx: Context, session: Session, located: Located, name: str, value: Any, ms: int) -> None:
    """Give a value to a found field according to its kind."""
    kind = located.kind
    if kind in ("select", "group"):
        await _choose(session, located, name, value, ms)
    elif kind in ("checkbox", "switch"):
        await located.loc.set_checked(truthy(value, name), timeout=ms)
    elif kind == "radio":
        if truthy(value, name):
            await located.loc.check(timeout=ms)
    elif kind == "file":
        await _upload(ctx, session, located, value, ms)
    else:
        await located.loc.fill(to_text(value, kind), timeout=ms)


# ---- elements to click ------------------------------------------------------------------
def _targets(page: Page, role: str | None, name: str | None, text: str | None,
             css: str | None) -> tuple[Locator, Locator, str]:
    """A loose and an exact locator for a clickable element, and its description."""
    if css:
        loc = page.locator(css)
        return loc, loc, css
    if role:
        return (page.get_by_role(role, name=name), page.get_by_role(role, name=name, exact=True),  # type: ignore[arg-type]
                f"{role} {name}" if name else role)
    if name:
        return (page.get_by_role("button", name=name).or_(page.get_by_role("link", name=name)),
                page.get_by_role("button", name=name, exact=True).or_(
                    page.get_by_role("link", name=name, exact=True)), name)
    if text:
        return page.get_by_text(text), page.get_by_text(text, exact=True), text
    raise RobotDefinitionError(_("give the element's role/name, text or css"))


async def _on_element(session: Session, ms: int, role: str | None, name: str | None, text: str | None,
                      css: str | None, op: Any) -> Any:
    """Run `op(locator)` on the element; several matches: exact name, then the first visible."""
    from playwright.async_api import Error
    from playwright.async_api import TimeoutError as PWTimeout

    page = session.page
    assert page is not None
    loose, exact, desc = _targets(page, role, name, text, css)
    key = (url_key(page.url), f"{role}|{name}|{text}|{css}")
    variant = session.runtime.targets.get(key)
    if variant is None:
        try:
            return await op(loose)
        except PWTimeout as exc:
            raise not_found(ELEMENT, desc, page, ms, exc) from None
        except Error as exc:
            if not is_strict_violation(exc):
                raise browser_error(exc, page) from None
        count = await exact.count() if exact is not loose else 2
        if count == 0:
            raise ApplicationError(scrub(_("Element “{element}” is ambiguous on {url}: several elements match",
                                           element=desc, url=page.url)))
        variant = session.runtime.targets[key] = "exact" if count == 1 else "first-visible"
    chosen = exact if variant == "exact" else exact.filter(visible=True).first
    return await guarded(op(chosen), page, lambda e: not_found(ELEMENT, desc, page, ms, e))


# ---- results ---------------------------------------------------------------------------
class Opened(TypedDict):
    """The page browser.open reached."""

    url: Annotated[str, "the page's address once loaded (after any redirection)"]
    status: Annotated[int | None, "the HTTP status of the response (None when the page gave none)"]


class Filled(TypedDict):
    """What browser.fill did."""

    filled: Annotated[int, "how many fields were filled"]


class Selected(TypedDict):
    """The option browser.select chose."""

    value: Annotated[str, "the option's value (a list) or the label chosen (a radio group, a combobox)"]


class Checked(TypedDict):
    """The state browser.check gave the box."""

    checked: Annotated[bool, "true when the box is now checked"]


class Uploaded(TypedDict):
    """The file browser.upload attached."""

    path: Annotated[str, "full path of the file attached"]


class PageAddress(TypedDict):
    """The page's address after the step."""

    url: Annotated[str, "the page's address after the step"]


class TextFound(TypedDict):
    """browser.expect_text's finding (the step fails when the text is absent)."""

    found: Annotated[bool, "always true: an absent text fails the step"]


class ExtractedText(TypedDict):
    """The text browser.extract_text read."""

    text: Annotated[str, "the element's visible text, trimmed (secret values masked)"]


class ExtractedTable(TypedDict):
    """The rows browser.extract_table read."""

    rows: Annotated[list[dict[str, str]], "one mapping per body row, keyed by the column names"]
    count: Annotated[int, "how many rows were read"]
    columns: Annotated[list[str], "the column names from the header cells ('Group / Column' for two header rows)"]


class Screenshot(TypedDict):
    """The picture browser.screenshot saved."""

    path: Annotated[str, "full path of the PNG file, among the item's evidence"]


class Downloaded(TypedDict):
    """The file browser.download saved."""

    path: Annotated[str, "full path where the file was saved"]
    filename: Annotated[str, "the file name the site suggested"]


# ---- actions ---------------------------------------------------------------------------
@action("browser.open")
async def open_page(ctx: Context, url: str, timeout_ms: int | None = None,
                    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load",
                    ) -> Opened:
    """Open a URL in this lane's page; an HTTP status of 400 or more is an application error.

    Args:
        url: the address to open.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).
        wait_until: the loading event to wait for (`load` by default).

    Example:
        - use: browser.open
          with: {url: "https://demarches.example.fr/connexion"}
    """
    session = await session_for(ctx, navigate=False)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    response = await guarded(page.goto(url, timeout=ms, wait_until=wait_until), page,
                             lambda e: ApplicationError(scrub(_("Page {url} did not load (timeout {timeout})",
                                                                url=url, timeout=seconds(ms)))))
    status = response.status if response is not None else None
    if status is not None and status >= 400:
        raise ApplicationError(scrub(_("The page {url} answered {status}", url=url, status=status)))
    return {"url": page.url, "status": status}


@action("browser.fill")
async def fill(ctx: Context, fields: dict[str, Any], timeout_ms: int | None = None) -> Filled:
    """Fill form fields found as a person finds them; values may be Secrets.

    Each key of `fields` names one field. An explicit key says how to find it:
    `css=SELECTOR` (a CSS selector), `xpath=EXPRESSION` (an XPath), `role=ROLE[name="NAME"]`
    (an ARIA role and its exact accessible name, e.g. `role=combobox[name="Pays"]`, or just
    `role=ROLE`); `css:`, `xpath:` and `role:` are accepted too. Any other key is the text a
    person reads for the field, tried in this order, the first that matches deciding:
    a label tied to the field (`for=`, wrapping, `aria-labelledby`, `aria-label`) with the exact
    text, then the same up to case, spacing, no-break spaces, a trailing " *" or " :" and
    straight or typographic apostrophes and quotes; then a text (label, span, table cell…)
    beside a single field, the field right of it, below it, or for a check box left of it;
    then a placeholder; then an ARIA name (a `title` too); then a label or placeholder
    containing the key; last, the key as a selector (bare CSS, as before). Two fields matching
    at the same level are an error naming both. When nothing matches within the timeout, the
    error lists the page's labels nearest to the key, exact characters shown (’ U+2019,
    ⍽ for a no-break space), and the closest one. Values follow the field's type (dates,
    numbers, check boxes, lists, radio groups, files).

    Args:
        fields: field key -> value (a Secret is masked in screenshots and traces).
        timeout_ms: how long to wait for each field (default: the run's timeout).

    Example:
        - use: browser.fill
          with:
            fields:
              Nom: "{{ item.nom }}"                              # a label (tied, or beside the field)
              Nom d'utilisateur: "{{ secrets.portail.username }}"  # also finds Nom d’utilisateur
              Rechercher une commune: "{{ item.commune }}"       # a placeholder
              css=input[name="siret"]: "{{ item.siret }}"
              xpath=//td[.='Montant']/following::input[1]: "{{ item.montant }}"
              role=combobox[name="Pays"]: France
    """
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    if any(isinstance(v, Secret) and not v.identifier for v in fields.values()):
        await session.end_item_trace()  # a typed password is never recorded (an identifier may be)
    await session.prelocate(list(fields), ms)  # a form seen for the first time: its fields looked for at once
    for name, value in fields.items():
        async def put(located: Located, name: str = name, value: Any = value) -> None:
            if isinstance(value, Secret):
                session.remember_secret(located, value.identifier)
            await _put(ctx, session, located, name, value, ms)
        await session.on_field(name, ms, put)
    return {"filled": len(fields)}


@action("browser.select")
async def select(ctx: Context, field: str, value: str | Secret, timeout_ms: int | None = None) -> Selected:
    """Choose an option of a list (or a radio group) by its label or value.

    Args:
        field: the list, found as browser.fill finds a field (its label, or css=, xpath=, role= keys).
        value: an option's label or value; when absent, the error lists the choices.
        timeout_ms: how long to wait for the list (default: the run's timeout).

    Example:
        - use: browser.select
          with: {field: Département, value: "{{ item.departement }}"}
    """
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    chosen = await session.on_field(field, ms, lambda f: _choose(session, f, field, value, ms))
    return {"value": chosen}


@action("browser.check")
async def check(ctx: Context, field: str, checked: bool = True, timeout_ms: int | None = None) -> Checked:
    """Check (or uncheck) a check box or a radio button found by its label.

    Args:
        field: the box, found as browser.fill finds a field (its label or the text beside it, or a key).
        checked: true to check, false to uncheck.
        timeout_ms: how long to wait for the box (default: the run's timeout).

    Example:
        - use: browser.check
          with: {field: "J'accepte les conditions"}
    """
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    await session.on_field(field, ms, lambda f: f.loc.set_checked(checked, timeout=ms))
    return {"checked": checked}


@action("browser.upload")
async def upload(ctx: Context, field: str, path: Path, timeout_ms: int | None = None) -> Uploaded:
    """Attach a file (inside the robot's, the run's or an allowed folder) to a file field.

    Args:
        field: the file field, found as browser.fill finds a field (its label, or a css=, xpath=, role= key).
        path: the file to attach.
        timeout_ms: how long to wait for the field (default: the run's timeout).

    Args:
        field: the file field, found as browser.fill finds fields.
        path: the file to attach.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - use: browser.upload
          with: {field: Justificatif, path: "pieces/{{ item.numero }}.pdf"}
    """
    ctx.path(path)  # a refused path fails the step before the browser opens
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    paths = await session.on_field(field, ms, lambda f: _upload(ctx, session, f, str(path), ms))
    return {"path": paths[0]}


@action("browser.click")
async def click(ctx: Context, role: str | None = None, name: str | None = None, text: str | None = None,
                css: str | None = None, timeout_ms: int | None = None) -> PageAddress:
    """Click an element given by role and name (a button or link when only name), text or CSS.

    Args:
        role: an ARIA role (`button`, `link`, `tab`...), with `name`.
        name: the element's accessible name; alone, a button or a link of that name.
        text: a text the element contains.
        css: a CSS selector.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - use: browser.click
          with: {name: Valider}
    """
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    await _on_element(session, ms, role, name, text, css, lambda loc: loc.click(timeout=ms))
    assert session.page is not None
    return {"url": session.page.url}


@action("browser.press")
async def press(ctx: Context, key: str, field: str | None = None, timeout_ms: int | None = None) -> None:
    """Press a key (e.g. Enter, Tab, Control+A) in a field, or in the page.

    Args:
        key: the key or chord, as Playwright names them (Enter, Tab, Control+A).
        field: the field to press it in, found as browser.fill finds a field; none: the page.
        timeout_ms: how long to wait for the field (default: the run's timeout).

    Args:
        key: a key or a combination, as Playwright names them (`Enter`, `Tab`, `Control+A`).
        field: the field to press it in; the page by default.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - use: browser.press
          with: {key: Enter, field: Rechercher}
    """
    session = await session_for(ctx)
    ms = session.timeout(timeout_ms)
    assert session.page is not None
    if field:
        await session.on_field(field, ms, lambda f: f.loc.press(key, timeout=ms))
    else:
        await guarded(session.page.keyboard.press(key), session.page, lambda e: browser_error(e, session.page))


@action("browser.expect_text")
async def expect_text(ctx: Context, text: str, timeout_ms: int | None = None,
                      business: bool = False) -> TextFound:
    """Wait for a text to be visible; absent, an application error (a business one if business).

    Args:
        text: the text to find (a part of an element's text).
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).
        business: absent, a business error (no retry) instead of an application error.

    Example:
        - use: browser.expect_text
          with: {text: Demande enregistrée}
    """
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    error = BusinessError if business else ApplicationError
    await guarded(page.get_by_text(text).filter(visible=True).first.wait_for(state="attached", timeout=ms),
                  page, lambda e: error(scrub(_("Text “{text}” not found on the page {url} (timeout {timeout})",
                                                text=text, url=page.url, timeout=seconds(ms)))))
    return {"found": True}


@action("browser.expect_url")
async def expect_url(ctx: Context, pattern: str, timeout_ms: int | None = None,
                     business: bool = False) -> PageAddress:
    """Wait for the page's URL to match a regular expression (searched, e.g. "/confirmation").

    Args:
        pattern: a regular expression searched in the address.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).
        business: not matching, a business error (no retry) instead of an application error.

    Example:
        - use: browser.expect_url
          with: {pattern: /confirmation}
    """
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    error = BusinessError if business else ApplicationError
    regex = re.compile(pattern)
    await guarded(page.wait_for_url(regex, timeout=ms), page,
                  lambda e: error(scrub(_("Address “{pattern}” expected, the page is {url} (timeout {timeout})",
                                          pattern=pattern, url=page.url, timeout=seconds(ms)))))
    return {"url": page.url}


@action("browser.wait_for")
async def wait_for(ctx: Context, text: str | None = None, css: str | None = None,
                   state: Literal["visible", "hidden", "attached", "detached"] = "visible",
                   timeout_ms: int | None = None) -> None:
    """Wait until an element given by text or CSS reaches a state (visible by default).

    Args:
        text: a text the element contains.
        css: a CSS selector.
        state: `visible`, `hidden`, `attached` or `detached`.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - use: browser.wait_for
          with: {text: Chargement en cours, state: hidden}
    """
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    if not (text or css):
        raise RobotDefinitionError(_("browser.wait_for: give text or css"))
    loc = page.locator(css) if css else page.get_by_text(text or "")
    wanted: Any = state
    if state in ("visible", "hidden"):  # any visible match counts
        loc, wanted = loc.filter(visible=True), "attached" if state == "visible" else "detached"
    await guarded(loc.first.wait_for(state=wanted, timeout=ms), page,
                  lambda e: ApplicationError(scrub(_("“{element}” did not reach the state {state} on {url} "
                                                     "(timeout {timeout})", element=css or text, state=state,
                                                     url=page.url, timeout=seconds(ms)))))


@action("browser.extract_text")
async def extract_text(ctx: Context, css: str | None = None, text: str | None = None,
                       timeout_ms: int | None = None) -> ExtractedText:
    """The visible text of an element (by CSS or containing a text), or of the whole page.

    Args:
        css: a CSS selector of the element.
        text: a text the element contains.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - id: dossier
          use: browser.extract_text
          with: {css: "#numero-dossier"}
    """
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    loc = page.locator(css) if css else page.get_by_text(text) if text else page.locator("body")
    found = await guarded(loc.first.inner_text(timeout=ms), page,
                          lambda e: not_found(ELEMENT, css or text or "body", page, ms, e))
    return {"text": scrub(found.strip())}


def _columns(grid: list[list[str]], head: int) -> list[str]:
    """Column names from the header rows ("Groupe / Colonne"), unique and never empty."""
    width = max((len(r) for r in grid), default=0)
    names: list[str] = []
    for i in range(width):
        parts: list[str] = []
        for row in grid[:head]:
            cell = row[i] if i < len(row) else ""
            if cell and cell not in parts:
                parts.append(cell)
        name = " / ".join(parts) or f"Colonne {i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


@action("browser.extract_table")
async def extract_table(ctx: Context, css: str = "table", index: int = 0,
                        timeout_ms: int | None = None) -> ExtractedTable:
    """Rows of an HTML table keyed by its header cells (merged cells repeated, empty rows skipped).

    Args:
        css: the CSS selector of the table(s).
        index: which of the matching tables, from 0.
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - id: paiements
          use: browser.extract_table
          with: {css: "table.resultats"}
    """
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None
    raw = await guarded(page.locator(css).nth(index).evaluate(TABLE_JS, timeout=ms), page,
                        lambda e: not_found(TABLE, f"{css} n° {index}", page, ms, e))
    grid, head = raw["grid"], raw["head"]
    columns = _columns(grid, head)
    rows = [{c: scrub(r[i]) if i < len(r) else "" for i, c in enumerate(columns)}
            for r in grid[head:] if any(cell for cell in r)]
    return {"rows": rows, "count": len(rows), "columns": columns}


@action("browser.screenshot")
async def screenshot(ctx: Context, name: str = "capture", full_page: bool = True) -> Screenshot:
    """Save a screenshot (secret fields and passwords masked) with the item's evidence.

    Args:
        name: the file name (`.png` added when missing).
        full_page: the whole page, not only the visible part.

    Example:
        - use: browser.screenshot
          with: {name: "confirmation-{{ item.numero }}"}
    """
    session = await session_for(ctx)
    if session.recording and password_values():  # masking a shown password must not enter the trace
        await session.end_item_trace()
    filename = name if name.lower().endswith(".png") else f"{name}.png"
    path = await session.capture(ctx.evidence_path(filename), full_page=full_page)
    return {"path": str(path)}


@action("browser.download")
async def download(ctx: Context, role: str | None = None, name: str | None = None, text: str | None = None,
                   css: str | None = None, save_as: Path | None = None,
                   timeout_ms: int | None = None) -> Downloaded:
    """Click an element that downloads a file and save it (save_as, or the run's downloads folder).

    Args:
        role: an ARIA role, with `name`, of the element to click.
        name: its accessible name; alone, a button or a link of that name.
        text: a text it contains.
        css: a CSS selector.
        save_as: where to save the file (a folder keeps the site's file name).
        timeout_ms: how long to wait, in milliseconds (the robot's `timeout_ms` by default).

    Example:
        - use: browser.download
          with: {name: Télécharger l'attestation, save_as: "attestations/{{ item.numero }}.pdf"}
    """
    from robocore.context import safe_name

    if save_as is not None:
        ctx.path(save_as)  # a refused path fails the step before anything is clicked
    session = await session_for(ctx)
    page, ms = session.page, session.timeout(timeout_ms)
    assert page is not None

    async def click_and_wait() -> Any:
        async with page.expect_download(timeout=ms) as info:
            await _on_element(session, ms, role, name, text, css, lambda loc: loc.click(timeout=ms))
        return await info.value

    dl = await guarded(click_and_wait(), page, lambda e: ApplicationError(
        scrub(_("No download received on {url} (timeout {timeout})", url=page.url, timeout=seconds(ms)))))
    suggested = safe_name(dl.suggested_filename)
    target = ctx.run_dir / "downloads" / suggested if save_as is None else ctx.path(save_as)
    target = ctx.path(target / suggested if target.is_dir() else target, write=True)
    await guarded(dl.save_as(target), page, lambda e: browser_error(e, page))
    return {"path": str(target), "filename": dl.suggested_filename}
