"""`robo run` of a browser robot starts Chromium before importing the command line (robocore.cli.early):
which commands do, the run loop the run executes on, the early browser adopted or closed, Ctrl-C."""
# ruff: noqa: F811 - the fixtures imported from test_actions_browser are parameters here

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from robocore.actions._browser_session import Ahead, Session, open_runtime
from robocore.cli.early import RunLoop, browser_robot, early_run_loop
from robocore.context import RunSettings
from robocore.errors import ApplicationError
from robocore.i18n import current, use_language
from tests.conftest import need_chromium
from tests.integration.test_actions_browser import server  # noqa: F401 - the test pages' server fixture

BROWSER_ROBOT = """\
robot: attente
steps:
  - use: browser.open
    with: {url: "{{ inputs.page }}"}
  - use: browser.expect_text
    with: {text: "{{ inputs.texte }}", timeout_ms: 60000}
inputs:
  page: {type: url}
  texte: {type: text}
"""
FILES_ROBOT = "robot: fichiers\nsteps:\n  - use: files.list\n    with: {folder: \".\"}\n"


@pytest.fixture
def robots(tmp_path: Path) -> Path:
    """A robots folder with a browser robot (`attente`) and one without browser steps (`fichiers`)."""
    for name, text in (("attente", BROWSER_ROBOT), ("fichiers", FILES_ROBOT)):
        (tmp_path / "robots" / name).mkdir(parents=True)
        (tmp_path / "robots" / name / "robot.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "robots"


def test_only_a_local_run_of_a_browser_robot_starts_chromium_early(robots: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """Judged from the arguments and the robot file's text; anything it cannot tell is None (no early start)."""
    attente, fichiers = str(robots / "attente"), str(robots / "fichiers")
    assert browser_robot(["robo", "run", attente]) is True
    assert browser_robot(["robo", "run", attente + "/robot.yaml", "-q"]) is True
    assert browser_robot(["robo", "--lang", "en", "run", "-i", "page=x", attente]) is True
    assert browser_robot(["robo", "--lang=en", "run", "--headed", attente]) is True
    assert browser_robot(["robo", "run", fichiers]) is False
    for other in (["robo", "run", attente, "--remote"], ["robo", "run", attente, "--trace"],
                  ["robo", "run", "--help"], ["robo", "resume", "abc"], ["robo", "runs"], ["robo"],
                  ["robo", "run", str(tmp_path / "absent")]):
        assert browser_robot(other) is None, other
    monkeypatch.chdir(tmp_path)  # a name: in ./robots, or in ROBOCORE_ROBOTS (any case, as the settings read it)
    assert browser_robot(["robo", "run", "attente"]) is True
    monkeypatch.chdir(robots / "fichiers")
    assert browser_robot(["robo", "run", "attente"]) is None
    monkeypatch.setenv("robocore_robots", str(robots))
    assert browser_robot(["robo", "run", "attente"]) is True
    assert early_run_loop(["robo", "run", "fichiers"]) is None


def test_the_run_loop_runs_in_the_callers_context_and_gives_back_results_and_errors() -> None:
    """The language set by --lang (a context variable) holds on the loop; an error comes back as raised."""
    loop = RunLoop()
    try:
        async def language() -> str:
            await asyncio.sleep(0)
            return current()

        async def failing() -> None:
            raise LookupError("from the loop")

        with use_language("en"):
            assert loop.call(language()) == "en"
        with use_language("fr"):
            assert loop.call(language()) == "fr"
        with pytest.raises(LookupError, match="from the loop"):
            loop.call(failing())
    finally:
        loop.close()
    assert not loop._thread.is_alive()
    assert loop.loop.is_closed()


@pytest.mark.parametrize(("settings", "adopted"), [(RunSettings(), True), (RunSettings(trace=True), False)],
                         ids=["adopted", "tracing-launches-its-own"])
def test_the_early_browser_is_adopted_only_when_it_is_the_one_the_run_would_launch(settings: RunSettings,
                                                                                    adopted: bool) -> None:
    """Same executable, headless, no tracing: the run drives that very browser; tracing needs its own
    launch: the early one is closed and another drives the run. Either way it is closed at the end."""
    need_chromium()
    loop = RunLoop()
    try:
        loop.launch_browser(headed=False)
        early = loop.browser
        assert early is not None

        async def run() -> tuple[bool, bool, bool]:
            ahead = Ahead(settings, loop.take_browser())
            async with open_runtime(settings) as runtime:
                assert runtime.browser is not None
                same, alive = runtime.browser is (await early).browser, runtime.browser.is_connected()
            await ahead.discard()
            return same, alive, (await early).browser.is_connected()

        assert loop.call(run()) == (adopted, True, False)
        assert loop.browser is None
    finally:
        loop.close()


def test_the_page_opened_with_the_early_browser_serves_the_first_session() -> None:
    """Opened with the run's context options while the command line was read: the first session (the run
    level's) takes it; the next one opens its own."""
    need_chromium()
    loop = RunLoop()
    try:
        loop.launch_browser(headed=False)

        async def run() -> tuple[bool, bool, bool, str]:
            settings = RunSettings()
            ahead = Ahead(settings, loop.take_browser())
            async with open_runtime(settings) as runtime:
                assert runtime.spare is not None
                spare_page = runtime.spare[1]
                first, second = Session(runtime, settings, None), Session(runtime, settings, None)
                await first.open()
                await second.open()
                assert first.page is not None and second.page is not None
                locale = await first.page.evaluate("navigator.language")
                taken = (first.page is spare_page, second.page is not spare_page, runtime.spare is None)
                await first.close()
                await second.close()
            await ahead.discard()
            return (*taken, locale)

        assert loop.call(run()) == (True, True, True, "fr-FR")
    finally:
        loop.close()


def test_an_early_browser_that_could_not_start_is_told_by_the_first_browser_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_CHROMIUM names no program: the first browser step fails with Robocore's own message,
    as without the early start (which is then tried again the usual way)."""
    monkeypatch.setenv("ROBOCORE_CHROMIUM", "/nonexistent/chromium")
    loop = RunLoop()
    try:
        loop.launch_browser(headed=False)

        async def run() -> str:
            settings = RunSettings()
            ahead = Ahead(settings, loop.take_browser())
            with pytest.raises(ApplicationError) as err:
                async with open_runtime(settings):
                    pass
            await ahead.discard()
            return str(err.value)

        assert loop.call(run()).startswith("Chromium n'a pas pu démarrer (/nonexistent/chromium)")
    finally:
        loop.close()


def test_an_early_browser_nobody_took_is_closed_with_the_loop() -> None:
    """A command that failed before running (a bad input, say) leaves no Chromium behind."""
    need_chromium()
    loop = RunLoop()
    loop.launch_browser(headed=False)
    early = loop.browser
    assert early is not None
    browser = loop.call(_result(early)).browser
    loop.close()
    assert not browser.is_connected()
    assert not loop._thread.is_alive()


async def _result(future: asyncio.Future[object]) -> object:
    return await future


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_ctrl_c_stops_a_run_started_early_leaving_it_to_resume_and_no_chromium(
        robots: Path, robo_home: Path, server: str) -> None:  # noqa: F811
    """SIGINT while a step waits: the command ends at once (not after the step's 60 s), Chromium and
    Playwright's driver end with it, and the run is left to `robo resume`, as without the early start."""
    need_chromium()
    command = [sys.executable, "-c", "from robocore.cli import main; main()", "run", str(robots / "attente"),
               "-q", "-i", f"page={server}/find-late.html", "-i", "texte=jamais écrit"]
    process = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while not any("chrom" in p.name() for p in _descendants(process.pid)):
            assert process.poll() is None and time.monotonic() < deadline, "Chromium never started"
            time.sleep(0.1)
        time.sleep(3)  # the run is at its waiting step
        children = _descendants(process.pid)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert "Traceback" not in err, err
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], [p.name() for p in alive]
    runs = subprocess.run([sys.executable, "-c", "from robocore.cli import main; main()", "runs"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert "attente" in runs.stdout and "en cours" in runs.stdout, runs.stdout + runs.stderr
