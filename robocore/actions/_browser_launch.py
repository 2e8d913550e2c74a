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
    from playwright.async_api import Browser, Playwright

SYSTEM_CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


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
    """Playwright and Chromium started before a run knew it needed them (`robo run`'s early start)."""

    playwright: Playwright
    browser: Browser
    executable: str | None
    headed: bool


async def launched(executable: str | None, *, headed: bool) -> Launched:
    """Playwright started and Chromium launched, without tracing (a failed launch stops Playwright)."""
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        browser = await launch(playwright, executable, headed=headed, traces_dir=None)
    except BaseException:
        await playwright.stop()
        raise
    return Launched(playwright, browser, executable, headed)


async def closed(started: Launched) -> None:
    """Chromium closed and Playwright stopped (a browser already gone is not an error)."""
    try:
        await started.browser.close()
    except Exception:  # noqa: S110 — crashed or disconnected: nothing left to close
        pass
    await started.playwright.stop()
