"""Chromium started ahead of a run (`robo run`, while its store opens): taken by the first browser action,
its start failure told by that action, closed when no action took it (in the system Chromium)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from robocore.actions import _browser_session as session
from robocore.actions._browser_session import AHEAD, Ahead, open_runtime
from robocore.cli.app import _uses_browser
from robocore.context import RunSettings
from robocore.errors import ApplicationError
from robocore.loader import load_robot
from tests.conftest import need_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium_required() -> None:
    need_chromium()


def test_first_browser_action_takes_the_browser_started_ahead() -> None:
    """The run's runtime is the one started ahead (no second Chromium), closed with the run."""
    async def body() -> tuple[bool, bool, bool, bool]:
        settings = RunSettings()
        ahead = Ahead(settings)
        async with open_runtime(settings) as runtime:
            started = await ahead.task
            same, connected = runtime is started, runtime.browser is not None and runtime.browser.is_connected()
        await ahead.discard()  # taken: nothing more to do
        assert runtime.browser is not None
        return same, connected, runtime.browser.is_connected(), AHEAD in settings.extra

    assert asyncio.run(body()) == (True, True, False, False)


def test_a_browser_started_ahead_and_not_taken_is_closed() -> None:
    """A run that ended before its first browser step: discard closes Chromium and stops Playwright."""
    async def body() -> bool:
        ahead = Ahead(RunSettings())
        await ahead.discard()
        runtime = await ahead.task
        assert runtime.browser is not None
        return runtime.browser.is_connected()

    assert asyncio.run(body()) is False


def test_a_browser_that_cannot_start_ahead_fails_the_first_browser_action(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step that takes it gets the same error as if it had started Chromium itself."""
    monkeypatch.setattr(session, "find_chromium", lambda: "/nonexistent/chromium")

    async def body() -> str:
        settings = RunSettings()
        ahead = Ahead(settings)
        with pytest.raises(ApplicationError) as err:
            async with open_runtime(settings):
                pass
        await ahead.discard()  # nothing to close, nothing raised
        return str(err.value)

    assert asyncio.run(body()).startswith("Chromium n'a pas pu démarrer (/nonexistent/chromium)")


def test_only_robots_with_browser_steps_start_it_ahead(tmp_path: Path) -> None:
    """A browser action anywhere (a loop's steps included) starts Chromium ahead; a robot without any does not."""
    def robot(name: str, steps: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "robot.yaml").write_text(f"robot: {name}\nsteps:\n{steps}", encoding="utf-8")
        return folder

    in_loop = robot("dans-boucle", "  - for_each: [1, 2]\n    key: \"{{ item }}\"\n    steps:\n"
                                   "      - use: browser.open\n        with: {url: \"https://exemple.fr\"}\n")
    no_browser = robot("sans-navigateur", "  - use: files.list\n    with: {folder: \".\"}\n")
    assert _uses_browser(load_robot(in_loop).spec) is True
    assert _uses_browser(load_robot(no_browser).spec) is False
