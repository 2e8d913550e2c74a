"""Browser lifecycle for the browser actions: one Chromium per run, one page per lane, clean evidence.

Lifecycle: Playwright and the Browser are run-scoped (`browser.runtime`); a BrowserContext and
its Page are lane-scoped (`browser.page`): each concurrency lane of a for_each gets its own, reused
by that lane's items; steps outside a for_each use a run-level one. A lane's context starts with
the cookies, localStorage and sessionStorage of the run-level context (so a login done before the
for_each carries over) and, unless its first action is `browser.open`, at the run-level page's URL.

Secrets: every field into which a Secret was typed, and every input[type=password], is masked in
screenshots. Tracing (settings.trace) records one chunk per item; typing a secret discards the
current chunk (that item keeps no trace); after a secret was typed into a non-password field the
session traces without screencast frames (pixels cannot be checked); every saved trace is scanned
for registered secret values and deleted if one is found.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import structlog

from robocore.actions._browser_errors import FIELD, browser_error, guarded, not_found, seconds, trace_leaks
from robocore.context import Context, RunSettings
from robocore.errors import ApplicationError
from robocore.i18n import gettext as _
from robocore.secrets import known_values, scrub
from robocore.settings import get_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Locator, Page, Playwright

T = TypeVar("T")
RUNTIME, PAGE = "browser.runtime", "browser.page"
SYSTEM_CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
FIELD_ROLES = ("textbox", "combobox", "spinbutton", "searchbox", "listbox", "checkbox", "radio",
               "switch", "radiogroup", "group", "slider")
STRATEGIES = ("label", "label-loose", "label-partial", "placeholder", "placeholder-partial", "role", "css")
KIND_JS = """e => { const tag = e.tagName.toLowerCase(), role = (e.getAttribute('role') || '').toLowerCase();
  if (tag === 'select') return 'select';
  if (tag === 'input') return (e.getAttribute('type') || 'text').toLowerCase();
  if (tag === 'textarea' || e.isContentEditable) return 'text';
  if (tag === 'fieldset' || role === 'radiogroup' || role === 'group') return 'group';
  if (role === 'checkbox' || role === 'switch' || role === 'radio') return role;
  return 'text'; }"""
SESSION_STORAGE_JS = "() => Object.fromEntries(Object.entries(sessionStorage))"
MAX_TEXT_MASKS = 64
MARK = "data-robocore-masque"
MARK_JS = f"els => els.forEach(e => e.setAttribute('{MARK}', ''))"
MASK_CSS = (f"[{MARK}], input[type=password] {{ color: transparent !important; "
            "-webkit-text-fill-color: transparent !important; text-shadow: none !important; "
            "background: #000 !important; border-color: #000 !important; } "
            f"[{MARK}] * {{ visibility: hidden !important; }}")
log = structlog.get_logger("robocore.browser")


def find_chromium() -> str | None:
    """The Chromium to launch: $ROBOCORE_CHROMIUM, /usr/bin/chromium, else Playwright's own (None)."""
    configured = get_settings().chromium
    if configured:
        return str(configured)
    return SYSTEM_CHROMIUM if os.access(SYSTEM_CHROMIUM, os.X_OK) else None


def url_key(url: str) -> str:
    """A page's identity for the field cache: no query nor fragment, digit runs folded."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{re.sub(r'[0-9]+', '0', parts.path)}"


def _loose(name: str) -> re.Pattern[str]:
    """A label equal to `name` up to case, spacing and decorations such as " *" or " :"."""
    words = r"\s+".join(re.escape(w) for w in name.split())
    return re.compile(rf"^[\s:*]*{words}[\s:*]*$", re.IGNORECASE)


def build(page: Page, strategy: str, name: str) -> Locator:
    """The locator of one field-finding strategy ("+visible" keeps only visible matches)."""
    base, _, visible = strategy.partition("+")
    if base == "label":
        loc = page.get_by_label(name, exact=True)
    elif base == "label-loose":
        loc = page.get_by_label(_loose(name))
    elif base == "label-partial":
        loc = page.get_by_label(name)
    elif base == "placeholder":
        loc = page.get_by_placeholder(name, exact=True)
    elif base == "placeholder-partial":
        loc = page.get_by_placeholder(name)
    elif base == "role":
        roles = [page.get_by_role(r, name=name, exact=True) for r in FIELD_ROLES]  # type: ignore[arg-type]
        loc = functools.reduce(lambda a, b: a.or_(b), roles)
    else:
        loc = page.locator(name)
    return loc.filter(visible=True) if visible else loc


@dataclass
class Located:
    """A field found on the page: its locator, its kind (input type, select, group...) and how."""

    loc: Locator
    kind: str
    strategy: str
    cached: bool = False


@dataclass
class Runtime:
    """Playwright and the Browser of one run, plus the run-wide cache of field strategies."""

    settings: RunSettings
    playwright: Playwright | None = None
    browser: Browser | None = None
    fields: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    targets: dict[tuple[str, str], str] = field(default_factory=dict)  # elements needing an exact name
    options: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)  # lists' choices

    async def launch(self) -> Browser:
        """Start Chromium (headless unless settings.headed)."""
        from playwright.async_api import Error

        exe = find_chromium()
        assert self.playwright is not None
        try:
            self.browser = await self.playwright.chromium.launch(
                executable_path=exe, args=LAUNCH_ARGS, headless=not self.settings.headed)
        except Error as exc:
            raise ApplicationError(scrub(_(
                "Chromium could not start ({browser}): {error} — install it (apt-get install chromium) or "
                "name it in ROBOCORE_CHROMIUM", browser=exe or _("Playwright's browser"),
                error=str(exc).strip().splitlines()[0]))) from None
        return self.browser

    async def alive(self) -> Browser:
        """The browser, relaunched when it crashed or was disconnected."""
        if self.browser is None or not self.browser.is_connected():
            if self.browser is not None:
                log.warning("browser.relaunch", reason="browser disconnected")
            await self.launch()
        assert self.browser is not None
        return self.browser


@contextlib.asynccontextmanager
async def open_runtime(settings: RunSettings) -> AsyncIterator[Runtime]:
    """Start Playwright and Chromium for the run; close both at its end."""
    from playwright.async_api import async_playwright

    runtime = Runtime(settings)
    runtime.playwright = await async_playwright().start()
    try:
        await runtime.launch()
        yield runtime
    finally:
        if runtime.browser is not None:
            with contextlib.suppress(Exception):
                await runtime.browser.close()
        await runtime.playwright.stop()


@dataclass
class Inherited:
    """What a lane takes from the run-level page: storage state, sessionStorage and URL."""

    storage: dict[str, Any]
    url: str | None
    session_storage: dict[str, str]


async def inherit_from(run: Session | None) -> Inherited | None:
    """A snapshot of the run-level session, or None when there is none (or it is unusable)."""
    from playwright.async_api import Error

    if run is None or run.context is None or run.page is None or run.page.is_closed():
        return None
    try:
        storage = await run.context.storage_state()
        url = run.page.url if run.page.url.startswith(("http://", "https://")) else None
        items = await run.page.evaluate(SESSION_STORAGE_JS) if url else {}
    except Error:
        return None
    return Inherited(dict(storage), url, dict(items))


class Session:
    """One BrowserContext and Page (a lane's, or the run level's) with its secrets and trace."""

    def __init__(self, runtime: Runtime, settings: RunSettings, inherited: Inherited | None) -> None:
        self.runtime, self.settings, self.inherited = runtime, settings, inherited
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.start_url = inherited.url if inherited else None
        self.secret_fields: dict[str, Locator] = {}
        self._unit: Context | None = None
        self._recording = self._fresh = False
        self._frames = True  # trace screencast frames (turned off once a secret shows as text)
        self._frames_unsafe = False

    def timeout(self, timeout_ms: int | None) -> int:
        """The action's timeout, or the run's."""
        return timeout_ms if timeout_ms is not None else self.settings.timeout_ms

    async def open(self) -> None:
        """Create the BrowserContext and Page (again after a crash)."""
        browser = await self.runtime.alive()
        options: dict[str, Any] = {"accept_downloads": True, "locale": "fr-FR",
                                   "timezone_id": "Europe/Paris"}
        if self.inherited:
            options["storage_state"] = self.inherited.storage
        self.context = await browser.new_context(**options)
        self.context.set_default_timeout(self.settings.timeout_ms)
        if self.inherited and self.inherited.url and self.inherited.session_storage:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.inherited.url))
            arg = json.dumps([origin, self.inherited.session_storage])
            await self.context.add_init_script(script=(
                f"(([o, items]) => {{ if (location.origin !== o) return; for (const [k, v] of "
                f"Object.entries(items)) if (sessionStorage.getItem(k) === null) "
                f"sessionStorage.setItem(k, v); }})({arg});"))
        if self.settings.trace:
            await self.context.tracing.start(screenshots=self._frames, snapshots=True)
            self._recording = self._fresh = True
        self.page = await self.context.new_page()
        self.secret_fields.clear()
        self._unit = None

    async def close(self) -> None:
        """Close the context (an unsaved trace chunk is discarded with it)."""
        if self.context is not None:
            with contextlib.suppress(Exception):
                await self.context.close()

    async def bind(self, ctx: Context, navigate: bool = True) -> Page:
        """Prepare the page for an action of `ctx`: failure hook, trace chunk, lane start URL."""
        if self.page is None or self.page.is_closed() or not (
                self.runtime.browser and self.runtime.browser.is_connected()):
            await self.close()
            await self.open()
        assert self.page is not None
        ctx.on_failure(self.on_failure)
        if self.settings.trace and ctx is not self._unit:
            await self._next_unit(ctx)
        if not navigate:
            self.start_url = None
        elif self.start_url and self.page.url == "about:blank":
            url, self.start_url = self.start_url, None
            ms = self.settings.timeout_ms
            await guarded(self.page.goto(url, timeout=ms), self.page,
                          lambda e: ApplicationError(scrub(_("Page {url} did not load (timeout {timeout})", url=url,
                                                             timeout=seconds(ms)))))
        return self.page

    async def _next_unit(self, ctx: Context) -> None:
        """Start the trace chunk of a new item (the first one comes from tracing.start)."""
        assert self.context is not None
        self._unit, tracing = ctx, self.context.tracing
        if self._fresh:
            self._fresh = False
            return
        if self._frames_unsafe and self._frames:
            self._frames = False
            with contextlib.suppress(Exception):
                await tracing.stop()
            await tracing.start(screenshots=False, snapshots=True)
        else:
            if self._recording:
                await tracing.stop_chunk()
            await tracing.start_chunk(title=ctx.item_key or "run")
        self._recording = True

    @property
    def recording(self) -> bool:
        """True while a trace chunk is being recorded."""
        return self._recording

    async def end_item_trace(self) -> None:
        """Discard the current trace chunk (before a secret is typed): this item keeps no trace."""
        self._fresh = False
        if self._recording and self.context is not None:
            self._recording = False
            await self.context.tracing.stop_chunk()

    def remember_secret(self, located: Located) -> None:
        """Mask this field in every later screenshot; note if the secret shows as plain text."""
        self.secret_fields.setdefault(repr(located.loc), located.loc)
        if located.kind != "password":
            self._frames_unsafe = True

    async def capture(self, path: Path, full_page: bool = True) -> Path:
        """A screenshot with secret fields, password inputs and texts showing a secret blacked out.

        Masking is CSS on tagged elements, not Playwright's `mask` overlays: those are placed
        before a full-page capture resizes the viewport, and drift off their fields on reflow.
        """
        from playwright.async_api import Error

        assert self.page is not None
        page, targets = self.page, list(self.secret_fields.values())
        if not self._recording:  # a text locator holds the secret: never while tracing
            targets += [page.get_by_text(v) for v in known_values()[:MAX_TEXT_MASKS]]

        async def tag(loc: Locator) -> None:
            with contextlib.suppress(Error):
                await loc.evaluate_all(MARK_JS)

        await asyncio.gather(*(tag(loc) for loc in targets))
        ms = self.settings.timeout_ms
        await guarded(page.screenshot(path=str(path), full_page=full_page, style=MASK_CSS, timeout=ms),
                      page, lambda e: ApplicationError(_("Screenshot impossible (timeout {timeout})",
                                                         timeout=seconds(ms))))
        return path

    async def on_failure(self, ctx: Context, exc: BaseException) -> list[Path]:
        """Evidence of a failed item: its trace (if clean of secrets) and a masked screenshot."""
        paths: list[Path] = []
        if self._recording and self.context is not None:
            self._recording = False
            target = ctx.evidence_path("trace.zip")
            with contextlib.suppress(Exception):
                await self.context.tracing.stop_chunk(path=str(target))
                if trace_leaks(target):
                    target.unlink()
                    log.warning("browser.trace_dropped",
                                reason="trace contained a secret")
                else:
                    paths.append(target)
        self._unit = None  # a retry of the same item starts a new chunk
        if self.page is not None and not self.page.is_closed():
            with contextlib.suppress(Exception):
                paths.append(await self.capture(ctx.evidence_path("echec.png")))
        return paths

    # ---- fields -------------------------------------------------------------
    async def find(self, name: str, ms: int, wait: bool = True) -> Located | None:
        """Find a field by label, loose label, partial label, placeholder, role, then CSS."""
        from playwright.async_api import Error

        page = self.page
        assert page is not None
        key = (url_key(page.url), name)
        if key in self.runtime.fields:
            strategy, kind = self.runtime.fields[key]
            return Located(build(page, strategy, name), kind, strategy, cached=True)

        async def count(loc: Locator) -> int:
            try:
                return await loc.count()
            except Error:  # not a valid CSS selector: that strategy does not apply
                return -1

        for attempt in (1, 2):
            locs = [build(page, s, name) for s in STRATEGIES]
            counts = await asyncio.gather(*(count(loc) for loc in locs))
            ambiguous = 0
            for strategy, loc, n in zip(STRATEGIES, locs, counts, strict=True):
                if n > 1 and await count(loc.filter(visible=True)) == 1:
                    strategy, n = strategy + "+visible", 1
                if n == 1:
                    located = Located(build(page, strategy, name), "", strategy)
                    located.kind = await guarded(located.loc.evaluate(KIND_JS, timeout=ms), page,
                                                 lambda e: not_found(FIELD, name, page, ms, e))
                    self.runtime.fields[key] = (strategy, located.kind)
                    return located
                ambiguous = max(ambiguous, n)
            if ambiguous > 1:
                raise ApplicationError(scrub(
                    _("Field “{name}” is ambiguous on {url}: {n} elements match — give the label or a CSS selector",
                      name=name, url=page.url, n=ambiguous)))
            if not wait or attempt == 2:
                return None
            usable = [loc for loc, n in zip(locs, counts, strict=True) if n >= 0]
            either = functools.reduce(lambda a, b: a.or_(b), usable)
            await guarded(either.first.wait_for(state="attached", timeout=ms), page,
                          lambda e: not_found(FIELD, name, page, ms, e))
        return None

    async def on_field(self, name: str, ms: int, op: Callable[[Located], Awaitable[T]]) -> T:
        """Find a field and run `op` on it; a stale cached strategy is resolved again once."""
        from playwright.async_api import Error
        from playwright.async_api import TimeoutError as PWTimeout

        page = self.page
        assert page is not None
        located = await self.find(name, ms)
        if located is None:
            raise not_found(FIELD, name, page, ms)
        try:
            return await op(located)
        except PWTimeout as exc:
            if not located.cached:
                raise not_found(FIELD, name, page, ms, exc) from None
            self.runtime.fields.pop((url_key(page.url), name), None)
            again = await self.find(name, ms, wait=False)
            if again is None or (again.strategy, again.kind) == (located.strategy, located.kind):
                raise not_found(FIELD, name, page, ms, exc) from None
            return await guarded(op(again), page, lambda e: not_found(FIELD, name, page, ms, e))
        except Error as exc:
            raise browser_error(exc, page) from None


async def session_for(ctx: Context, navigate: bool = True) -> Session:
    """The page session of this lane (or of the run level), opened on first use."""

    @contextlib.asynccontextmanager
    async def open_session() -> AsyncIterator[Session]:
        runtime = await ctx.aresource(RUNTIME, lambda: open_runtime(ctx.settings), scope="run")
        session = Session(runtime, ctx.settings, await inherit_from(ctx.peek(PAGE, scope="run")))
        await session.open()
        try:
            yield session
        finally:
            await session.close()

    session: Session = await ctx.aresource(PAGE, open_session, scope="lane")
    await session.bind(ctx, navigate)
    return session
