"""`robo run` of a browser robot: Chromium starts before the command line is even imported.

A cold `robo run` spends about half a second importing its modules, parsing the command line,
reading the robot and opening the store before its first step; Playwright's driver and Chromium
take as long to start, in processes of their own. So the entry point (`robocore.cli.main`) first
asks `early_run_loop` whether the command is a local `robo run` of a robot with browser steps,
judged cheaply from the arguments and a text scan of the robot file (`browser_robot`). If so, the
run's event loop starts in a thread of its own (`RunLoop`) and launches Chromium on it, then opens
the run's first context and page, while the main thread imports and parses as usual; the run then
executes on that loop (`RunLoop.call`), and its first browser action adopts the browser when it is
the one the run would have launched (same executable, headed or not, no tracing), else closes it
and starts its own (`_browser_session`); the first session takes the page.

A guess only decides when Chromium starts, never what the run does: a robot this scan cannot
find (or that turns out to have no browser step) starts it the usual way, or not at all, and an
early browser nobody adopted is closed with the loop (`RunLoop.close`). Nothing here prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import re
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from robocore.actions._browser_launch import Launched

T = TypeVar("T")
CLOSE_S = 30.0  # closing the loop: its last tasks (Chromium closing) get this long, then the process goes on
MAX_SCAN = 1 << 20  # bytes of the robot file read to look for browser steps
USES_BROWSER = re.compile(rb"""^\s*(?:-\s+)?use:\s*["']?browser\.""", re.MULTILINE)
VALUED = {"-i", "--input"}  # `robo run` options followed by a value
NOT_EARLY = {"--remote", "--help", "--trace"}  # elsewhere, nothing to run, or a browser launched for tracing


def _setting(name: str) -> str | None:
    """A ROBOCORE_* variable as the settings read it: name in any case, empty counts as unset."""
    wanted = f"ROBOCORE_{name}".upper()
    for key, value in os.environ.items():
        if key.upper() == wanted and value:
            return value
    return None


def _robot_file(robot: str) -> Path | None:
    """The robot file `robot run ROBOT` names, found as `find_robot` does for a path or a folder of the robots."""
    for candidate in (Path(robot), Path(_setting("ROBOTS") or "robots") / robot):
        if candidate.is_file():
            return candidate
        if (candidate / "robot.yaml").is_file():
            return candidate / "robot.yaml"
    return None


def browser_robot(argv: list[str]) -> bool | None:
    """For `robo [--lang L] run ROBOT ...` run here: whether ROBOT has a browser step (None: not such a command).

    Headed or not is `--headed` as given; whatever this cannot tell is None (no early start).
    """
    args = argv[1:]
    while args and (args[0] == "--lang" or args[0].startswith("--lang=")):
        args = args[2:] if args[0] == "--lang" else args[1:]
    if not args or args[0] != "run" or NOT_EARLY.intersection(args[1:]):
        return None
    rest, robot = iter(args[1:]), None
    for arg in rest:
        if arg in VALUED:
            next(rest, None)
        elif not arg.startswith("-"):
            robot = arg
            break
    found = _robot_file(robot) if robot else None
    if found is None:
        return None
    try:
        with found.open("rb") as text:
            return USES_BROWSER.search(text.read(MAX_SCAN)) is not None
    except OSError:
        return None


class RunLoop:
    """An event loop running in its own thread from the start of `robo run`; the run executes on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.browser: asyncio.Future[Launched] | None = None
        self._thread = threading.Thread(target=self._serve, name="robocore-run-loop", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """The loop's thread: run until `close`, then end what is left as `asyncio.run` would."""
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            try:
                left = asyncio.all_tasks(self.loop)
                for task in left:
                    task.cancel()
                self.loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
                self.loop.run_until_complete(self.loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                self.loop.close()

    def launch_browser(self, headed: bool) -> None:
        """Start Playwright and Chromium on the loop, for the run's first browser action to adopt.

        Playwright is imported here, before the command line: imported on the loop instead, it would
        share the interpreter with those imports and its driver would start the later, while the
        driver and Chromium, once spawned, start in processes of their own beside them.
        """
        import playwright.async_api  # noqa: F401 — now, with nothing else to import meanwhile

        from robocore.actions._browser_launch import chromium_path, launched

        def start() -> None:
            self.browser = self.loop.create_task(launched(chromium_path(_setting("CHROMIUM")), headed=headed))

        self._soon(start).result(CLOSE_S)

    def take_browser(self) -> asyncio.Future[Launched] | None:
        """The early launch, once: from then on the run owns it (None when there was none)."""
        browser, self.browser = self.browser, None
        return browser

    def _soon(self, callback: Any) -> Future[None]:
        """Run `callback` in the loop's thread; the future tells when it ran."""
        done: Future[None] = Future()

        def call() -> None:
            try:
                callback()
            except BaseException as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

        self.loop.call_soon_threadsafe(call)
        return done

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop, in a copy of this thread's context (the language, the log's context).

        As with `asyncio.run`, Ctrl-C cancels it and, once it has ended, raises KeyboardInterrupt.
        """
        context = contextvars.copy_context()
        result: Future[T] = Future()
        tasks: list[asyncio.Task[T]] = []
        interrupted = threading.Event()

        def settle(task: asyncio.Task[T]) -> None:
            if task.cancelled():
                result.cancel()
            elif (error := task.exception()) is not None:
                result.set_exception(error)
            else:
                result.set_result(task.result())

        def start() -> None:
            if interrupted.is_set():  # Ctrl-C came first: never started
                coro.close()
                result.cancel()
                return
            tasks.append(self.loop.create_task(coro, context=context))
            tasks[0].add_done_callback(settle)

        def cancel() -> None:
            interrupted.set()
            for task in tasks:
                task.cancel()

        self._soon(start)
        try:
            return result.result()
        except KeyboardInterrupt:
            self.loop.call_soon_threadsafe(cancel)
            with contextlib.suppress(BaseException):
                result.result(CLOSE_S)
            raise

    def close(self) -> None:
        """Close an early browser nobody adopted, then stop the loop (at most CLOSE_S each)."""
        browser = self.take_browser()
        if browser is not None:
            with contextlib.suppress(BaseException):
                self.call(asyncio.wait_for(_discarded(browser), CLOSE_S))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CLOSE_S)


async def _discarded(browser: asyncio.Future[Launched]) -> None:
    """An early browser closed (one that failed to start has nothing to close)."""
    from robocore.actions._browser_launch import closed

    try:
        started = await browser
    except Exception:
        return
    await closed(started)


def early_run_loop(argv: list[str]) -> RunLoop | None:
    """For a local `robo run` of a browser robot, its run loop with Chromium starting on it; else None."""
    if not browser_robot(argv):
        return None
    loop = RunLoop()
    loop.launch_browser(headed="--headed" in argv)
    return loop
