"""Browser lifecycle for the browser actions: one Chromium per run, one page per lane, clean evidence.

Lifecycle: Playwright and the Browser are run-scoped (`browser.runtime`); a BrowserContext and
its Page are lane-scoped (`browser.page`): steps outside a for_each use a run-level one, and so
does a for_each of `concurrency: 1` (the engine gives its items no lane of their own: they work in
the page the earlier steps left, and the later steps find it as the items left it). With more
lanes, each lane gets its own, reused by that lane's items and prepared by the loop's
`lane_setup` steps; it starts with the cookies, localStorage and sessionStorage of the run-level
context (so a login done before the for_each carries over) and, unless its first action is
`browser.open`, at the run-level page's URL — what earlier steps did on the page is not replayed.

Secrets: every field into which a Secret was typed, and every input[type=password], is masked in
screenshots. Tracing (settings.trace) records one chunk per item; typing a password (any secret but
an identifier) stops tracing, discarding the item's chunk (that item keeps no trace: Playwright
records a filled value in the action's parameters, its log and every later DOM snapshot, and a
context's chunks carry every network entry since tracing started, a login's POST included);
tracing starts afresh with the next item. After a password was typed
into a non-password field the session traces without screencast frames (pixels cannot be checked).
A saved trace is cleaned (robocore.actions._browser_trace): cookies and credential headers removed,
deleted if a password value is still found (an identifier may stay). A trace not kept is said
at WARNING level, naming the item and why, and noted in settings.extra["traces_dropped"] for the
run's summary. Playwright's own trace files go to a private temporary folder removed with the
browser (`traces_dir`), and tracing is stopped before a context closes: nothing is left in the
system's temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import structlog

from robocore.actions._browser_errors import guarded, seconds
from robocore.actions._browser_find import Located, locate, on_field, prelocate
from robocore.actions._browser_launch import CONTEXT_OPTIONS, Launched, chromium_path, closed, launch
from robocore.actions._browser_trace import Dropped, Verdict, clean_trace
from robocore.context import Context, RunSettings
from robocore.errors import ApplicationError
from robocore.i18n import gettext as _
from robocore.secrets import known_values, password_values, scrub
from robocore.settings import get_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Locator, Page, Playwright

T = TypeVar("T")
RUNTIME, PAGE = "browser.runtime", "browser.page"
AHEAD = "browser.ahead"  # settings.extra: an Ahead, Chromium started before the first browser action
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
    return chromium_path(str(configured) if configured else None)


def url_key(url: str) -> str:
    """A page's identity for the field cache: no query nor fragment, digit runs folded."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{re.sub(r'[0-9]+', '0', parts.path)}"


@dataclass
class Runtime:
    """Playwright and the Browser of one run, plus the run-wide cache of field strategies."""

    settings: RunSettings
    playwright: Playwright | None = None
    browser: Browser | None = None
    traces_dir: str | None = None  # Playwright's raw trace files (when tracing): private, removed at the end
    spare: tuple[BrowserContext, Page] | None = None  # a context and page opened ahead, for the first session
    fields: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    targets: dict[tuple[str, str], str] = field(default_factory=dict)  # elements needing an exact name
    options: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)  # lists' choices

    async def launch(self) -> Browser:
        """Start Chromium (headless unless settings.headed)."""
        from playwright.async_api import Error

        exe = find_chromium()
        assert self.playwright is not None
        try:
            self.browser = await launch(self.playwright, exe, headed=self.settings.headed,
                                        traces_dir=self.traces_dir)
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


async def _started(settings: RunSettings) -> Runtime:
    """Playwright and Chromium started for a run (a failed start leaves nothing behind)."""
    from playwright.async_api import async_playwright

    runtime = Runtime(settings)
    if settings.trace:
        runtime.traces_dir = tempfile.mkdtemp(prefix="robocore-trace-")
    try:
        runtime.playwright = await async_playwright().start()
        try:
            await runtime.launch()
        except BaseException:
            await runtime.playwright.stop()
            raise
    except BaseException:
        _remove_traces(runtime)
        raise
    return runtime


async def _closed(runtime: Runtime) -> None:
    """Close Chromium and stop Playwright; remove Playwright's raw trace files."""
    try:
        if runtime.browser is not None:
            with contextlib.suppress(Exception):
                await runtime.browser.close()
        if runtime.playwright is not None:
            await runtime.playwright.stop()
    finally:
        _remove_traces(runtime)


def _remove_traces(runtime: Runtime) -> None:
    if runtime.traces_dir:
        shutil.rmtree(runtime.traces_dir, ignore_errors=True)


async def _adopted(settings: RunSettings, early: Awaitable[Launched]) -> Runtime:
    """The browser `robo run` launched early when it is the one this run would launch; else one started now.

    A failed early launch is not told as such: starting again the usual way tells why, translated.
    """
    try:
        started = await early
    except Exception:
        return await _started(settings)
    if settings.trace or (started.executable, started.headed) != (find_chromium(), settings.headed) \
            or not started.browser.is_connected():  # launched with other flags (tracing needs its folder)
        await closed(started)
        return await _started(settings)
    return Runtime(settings, playwright=started.playwright, browser=started.browser, spare=started.spare)


class Ahead:
    """Playwright and Chromium started before the run needs them (`robo run`, while its store opens).

    Put in `settings.extra[AHEAD]`, it is taken by the run's first browser action (`open_runtime`),
    which then waits for the start to end and gets its error, if any, as it would have starting
    them itself; a run that never took it calls `discard`, which closes them. With `early` (the
    launch `robo run` began before parsing its command line), that browser is adopted.
    """

    def __init__(self, settings: RunSettings, early: Awaitable[Launched] | None = None) -> None:
        import playwright.async_api  # noqa: F401 — now, in this thread alone: the driver is spawned the sooner

        self.settings = settings
        self.task: asyncio.Future[Runtime] = asyncio.ensure_future(
            _started(settings) if early is None else _adopted(settings, early))
        self.taken = False
        settings.extra[AHEAD] = self

    async def take(self) -> Runtime:
        """The started runtime (once): the run's browser from now on."""
        self.taken = True
        self.settings.extra.pop(AHEAD, None)
        return await self.task

    async def discard(self) -> None:
        """Close what was started for a run that did not use it."""
        self.settings.extra.pop(AHEAD, None)
        if self.taken:
            return
        self.taken = True
        try:
            runtime = await self.task
        except Exception:  # Chromium did not start: nothing to close, and no step to tell
            return
        await _closed(runtime)


@contextlib.asynccontextmanager
async def open_runtime(settings: RunSettings) -> AsyncIterator[Runtime]:
    """Start Playwright and Chromium for the run (or take those started ahead); close both at its end."""
    ahead = settings.extra.get(AHEAD)
    runtime = await (ahead.take() if isinstance(ahead, Ahead) and not ahead.taken else _started(settings))
    try:
        yield runtime
    finally:
        await _closed(runtime)


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
        self._discarded = False  # the current unit's chunk was discarded (a password was typed)
        self._stopped = False  # tracing stopped by a password: started again with the next unit
        self._frames = True  # trace screencast frames (turned off once a secret shows as text)
        self._frames_unsafe = False

    def timeout(self, timeout_ms: int | None) -> int:
        """The action's timeout, or the run's."""
        return timeout_ms if timeout_ms is not None else self.settings.timeout_ms

    async def open(self) -> None:
        """Create the BrowserContext and Page (again after a crash), or take those opened with the browser
        ahead of the run (`Runtime.spare`, same options) when this session inherits nothing."""
        browser = await self.runtime.alive()
        spare, self.runtime.spare = self.runtime.spare, None  # never with tracing: not adopted then (_adopted)
        if spare is not None and (self.inherited or spare[1].is_closed()):
            with contextlib.suppress(Exception):  # opened for another kind of session: not this one
                await spare[0].close()
            spare = None
        options: dict[str, Any] = dict(CONTEXT_OPTIONS)
        if self.inherited:
            options["storage_state"] = self.inherited.storage
        self.context = spare[0] if spare is not None else await browser.new_context(**options)
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
            self._stopped = False
        self.page = spare[1] if spare is not None else await self.context.new_page()
        self.secret_fields.clear()
        self._unit = None

    async def close(self) -> None:
        """Close the context; tracing is stopped first (its unsaved chunk discarded, its files removed)."""
        if self.context is not None:
            if self.settings.trace and not self._stopped:
                with contextlib.suppress(Exception):
                    await self.context.tracing.stop()
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
        self._discarded = False
        if self._fresh:
            self._fresh = False
            return
        if self._stopped or (self._frames_unsafe and self._frames):
            self._frames = self._frames and not self._frames_unsafe
            if not self._stopped:
                with contextlib.suppress(Exception):
                    await tracing.stop()
            await tracing.start(screenshots=self._frames, snapshots=True, title=ctx.item_key or "run")
            self._stopped = False
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
        """Stop tracing (before a password is typed): this item keeps no trace.

        Not a mere chunk: a context's later chunks carry every network entry since tracing started
        (a login form's POST included), so tracing starts afresh with the next item.
        """
        self._fresh = False
        if self._recording and self.context is not None:
            self._recording = False
            self._discarded = self._stopped = True
            await self.context.tracing.stop()

    def remember_secret(self, located: Located, identifier: bool = False) -> None:
        """Mask this field in every later screenshot; note if a password shows as plain text."""
        self.secret_fields.setdefault(repr(located.loc), located.loc)
        if located.kind != "password" and not identifier:
            self._frames_unsafe = True

    async def capture(self, path: Path, full_page: bool = True) -> Path:
        """A screenshot with secret fields, password inputs and texts showing a secret blacked out.

        Masking is CSS on tagged elements, not Playwright's `mask` overlays: those are placed
        before a full-page capture resizes the viewport, and drift off their fields on reflow.
        """
        from playwright.async_api import Error

        assert self.page is not None
        page, targets = self.page, list(self.secret_fields.values())
        shown = known_values()
        if self._recording:  # a text locator holds the value: only identifiers may enter the trace
            passwords = set(password_values())
            shown = [v for v in shown if v not in passwords]
        targets += [page.get_by_text(v) for v in shown[:MAX_TEXT_MASKS]]

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
                dropped = await asyncio.to_thread(clean_trace, target)
                if dropped is None:
                    paths.append(target)
                else:
                    self._trace_dropped(ctx, dropped)
        elif self.settings.trace and self._discarded and ctx is self._unit:
            self._trace_dropped(ctx, None)
        self._unit = None  # a retry of the same item starts a new chunk
        if self.page is not None and not self.page.is_closed():
            with contextlib.suppress(Exception):
                paths.append(await self.capture(ctx.evidence_path("echec.png")))
        return paths

    def _trace_dropped(self, ctx: Context, dropped: Verdict | None) -> None:
        """Say (WARNING) that this item's trace is not kept, and why; note it for the run's summary.

        A secret found is named (`portail.username`, never its value), with the way out when it is
        a field the site itself shows.
        """
        item = ctx.item_key or "run"
        if dropped is None:
            why = _("a password was typed during this item")
        elif dropped.reason is Dropped.SECRET and dropped.secret:
            why = _("the secret “{secret}” was found in the trace (a field the site shows on its pages, such as a "
                    "user name, can be declared under `identifiers:`)", secret=dropped.secret)
        elif dropped.reason is Dropped.SECRET:
            why = _("a secret was found in the trace")
        else:
            why = _("it could not be cleaned of cookies and credentials")
        log.warning(_("Trace of “{item}” not kept: {why}", item=item, why=why),
                    trace_dropped=dropped.reason.value if dropped else "password_typed")
        self.settings.extra.setdefault("traces_dropped", {})[item] = why

    # ---- fields -------------------------------------------------------------
    async def find(self, name: str, ms: int, wait: bool = True) -> Located | None:
        """Find a field as a person would (see _browser_find); None only when `wait` is False."""
        assert self.page is not None
        return await locate(self.page, self.runtime.fields, url_key(self.page.url), name, ms, wait)

    async def prelocate(self, names: list[str], ms: int) -> None:
        """Find at once the fields of one step not found before on this page (see _browser_find.prelocate)."""
        assert self.page is not None
        await prelocate(self.page, self.runtime.fields, url_key(self.page.url), names, ms)

    async def on_field(self, name: str, ms: int, op: Callable[[Located], Awaitable[T]]) -> T:
        """Find a field and run `op` on it; a stale cached strategy is resolved again once."""
        assert self.page is not None
        return await on_field(self.page, self.runtime.fields, url_key(self.page.url), name, ms, op)


async def session_for(ctx: Context, navigate: bool = True) -> Session:
    """The page session of this lane (or of the run level, which one-lane loops share), opened on first use."""

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
