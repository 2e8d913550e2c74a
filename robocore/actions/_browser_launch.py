"""How Chromium is launched: the one place for its executable and flags.

Used by the run's browser runtime (`_browser_session`) and by `robo run`'s early start
(`robocore.cli.early`), which must launch the very browser the run would have: this module
imports nothing heavy (no settings, no logging), so the early start can use it first thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

SYSTEM_CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
# every BrowserContext a run opens: downloads accepted, French locale and time zone (storage state and
# init scripts added for a lane that inherits the run-level page's)
CONTEXT_OPTIONS = {"accept_downloads": True, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


def chromium_path(configured: str | None) -> str | None:
    """The Chromium to launch: the configured one, /usr/bin/chromium, else Playwright's own (None)."""
    if configured:
        return configured
    return SYSTEM_CHROMIUM if os.access(SYSTEM_CHROMIUM, os.X_OK) else None


async def launch(playwright: Playwright, executable: str | None, *, headed: bool,
                 traces_dir: str | None) -> Browser:
    """Chromium launched by `playwright` (Playwright's errors pass through)."""
    return await playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS,
                                            headless=not headed, traces_dir=traces_dir)


@dataclass
class Launched:
    """Playwright and Chromium started before a run knew it needed them (`robo run`'s early start),
    with a BrowserContext (CONTEXT_OPTIONS) and its Page ready for the run's first page."""

    playwright: Playwright
    browser: Browser
    executable: str | None
    headed: bool
    spare: tuple[BrowserContext, Page] | None = None


async def launched(executable: str | None, *, headed: bool) -> Launched:
    """Playwright started, Chromium launched without tracing and a first page opened in it (a failed
    launch stops Playwright; a page that could not open is left for the run to open)."""
    from playwright.async_api import Error, async_playwright

    playwright = await async_playwright().start()
    try:
        browser = await launch(playwright, executable, headed=headed, traces_dir=None)
    except BaseException:
        await playwright.stop()
        raise
    started = Launched(playwright, browser, executable, headed)
    try:
        context = await browser.new_context(**CONTEXT_OPTIONS)  # type: ignore[arg-type]
        started.spare = (context, await context.new_page())
    except Error:
        pass
    return started


async def closed(started: Launched) -> None:
    """Chromium closed and Playwright stopped (a browser already gone is not an error)."""
    try:
        await started.browser.close()
    except Exception:  # noqa: S110 — crashed or disconnected: nothing left to close
        pass
    await started.playwright.stop()
