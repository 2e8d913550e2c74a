"""The loop a newcomer can predict: the run-level page at concurrency 1, `lane_setup` for more lanes,
a fast stop when the first item times out, the `loop` variables, `concurrency` as an expression,
the output of a failed `continue_on_error` step, and the failing step's own id in the log.

The browser tests run whole robots (`runs.start`, real Chromium) against `pages/loop_portal.html`:
a one-page portal whose form shows only after a click on "Start", as the RPA Challenge does.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from robocore import runs
from robocore.errors import RobotDefinitionError
from robocore.loader import load_robot
from robocore.store import Store
from tests.conftest import need_chromium, robo_cmd

PAGES = Path(__file__).parent / "pages"
SHORT = 2500  # ms: the timeout of the robots whose page is not ready, ample for a loaded machine
PEOPLE = [{"first": "Ada", "last": "Lovelace"}, {"first": "Grace", "last": "Hopper"},
          {"first": "Alan", "last": "Turing"}, {"first": "Edsger", "last": "Dijkstra"},
          {"first": "Barbara", "last": "Liskov"}, {"first": "Donald", "last": "Knuth"}]


class Portal:
    """What the portal's server saw: the forms submitted, and whether "Start" opens the form."""

    def __init__(self) -> None:
        self.open = True
        self.submitted: list[dict[str, str]] = []
        self.lock = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    """The test pages, the portal's state and its form submissions."""

    portal: Portal

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _json(self, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/loop/state":
            self._json({"open": self.portal.open})
        else:
            super().do_GET()

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.portal.lock:
            self.portal.submitted.append(body)
        self._json({"ok": True})


@pytest.fixture
def portal() -> Iterator[tuple[Portal, str]]:
    """The portal on 127.0.0.1 with a free port."""
    need_chromium()
    state = Portal()
    handler = type("PortalHandler", (Handler,), {"portal": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{httpd.server_port}/loop_portal.html"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def store(robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The embedded store of the test's home, messages in English."""
    monkeypatch.setenv("ROBOCORE_LANGUAGE", "en")
    s = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    yield s
    s.close()


def _robot(tmp_path: Path, body: str, *, timeout_ms: int = 5000) -> Path:
    folder = tmp_path / "robot"
    folder.mkdir(exist_ok=True)
    (folder / "robot.yaml").write_text(
        f"robot: boucle\ntimeout_ms: {timeout_ms}\n"
        "inputs:\n  portail: {type: url, default: 'http://127.0.0.1'}\n"
        "  lanes: {type: number, default: 1}\n" + body, encoding="utf-8")
    return folder


START = """\
  - use: browser.open
    with: {url: "{{ inputs.portail }}"}
  - use: browser.click
    with: {role: button, name: Start}
"""
FILL = """\
    steps:
      - use: browser.fill
        with: {fields: {First Name: "{{ p.first }}", Last Name: "{{ p.last }}"}}
      - use: browser.click
        with: {role: button, name: Submit}
      - use: browser.expect_text
        with: {text: "Saved: {{ p.first }} {{ p.last }}"}
"""


def _loop(extra: str = "") -> str:
    return (f"  - id: saisie\n    for_each: {json.dumps(PEOPLE)}\n    as: p\n    key: \"{{{{ p.last }}}}\"\n"
            f"{extra}{FILL}")


def _run(folder: Path, store: Store, inputs: dict[str, Any]) -> Any:
    return asyncio.run(runs.start(load_robot(folder), store, inputs))


def _items(store: Store, run_id: str) -> dict[str, Any]:
    return {i.key: i for i in store.items(run_id)}


def test_one_lane_fills_the_form_the_run_level_steps_opened(portal: tuple[Portal, str], store: Store,
                                                            tmp_path: Path) -> None:
    """Concurrency 1: the items fill the form "Start" showed, in that page; the steps after the loop find it."""
    state, url = portal
    after = "  - use: browser.expect_text\n    with: {text: 6 saved}\n"
    folder = _robot(tmp_path, "steps:\n" + START + _loop("    concurrency: 1\n") + after)
    result = _run(folder, store, {"portail": url})
    assert result.status == "succeeded", result.error
    assert result.counts == {"done": 6}
    assert sorted(s["last"] for s in state.submitted) == sorted(p["last"] for p in PEOPLE)
    assert len({s["tab"] for s in state.submitted}) == 1  # one page: the run level's


def test_three_lanes_set_up_by_lane_setup(portal: tuple[Portal, str], store: Store, tmp_path: Path) -> None:
    """Concurrency 3 with lane_setup: each lane opens the portal and clicks Start, then fills its items."""
    state, url = portal
    setup = "    concurrency: 3\n    lane_setup:\n" + "\n".join("  " + line for line in START.splitlines()) + "\n"
    folder = _robot(tmp_path, "steps:\n" + START + _loop(setup))
    result = _run(folder, store, {"portail": url})
    assert result.status == "succeeded", result.error
    assert result.counts == {"done": 6}
    assert sorted(s["last"] for s in state.submitted) == sorted(p["last"] for p in PEOPLE)


def test_three_lanes_without_lane_setup_say_why(portal: tuple[Portal, str], store: Store, tmp_path: Path) -> None:
    """Without lane_setup, a lane's fresh page has no form: the error says so and names lane_setup."""
    state, url = portal
    folder = _robot(tmp_path, "steps:\n" + START + _loop("    concurrency: 3\n"), timeout_ms=SHORT)
    result = _run(folder, store, {"portail": url})
    assert result.status == "failed"
    assert state.submitted == []
    items = _items(store, result.run_id)
    failed = [i for i in items.values() if i.status == "application_error"]
    assert failed and all("Put those steps under `lane_setup:`" in (i.error or "") for i in failed)
    assert all("First Name" in (i.error or "") for i in failed)
    # the first timeouts stopped the loop: the other items wait for `robo resume`
    assert {i.status for i in items.values()} == {"application_error", "pending"}
    assert f"robo resume {result.run_id}" in (result.error or "")


def test_first_timeout_stops_the_loop_and_resume_finishes_it(portal: tuple[Portal, str], store: Store,
                                                             tmp_path: Path) -> None:
    """The first item times out (the portal is closed): the others stay pending; resume does them all."""
    state, url = portal
    state.open = False
    folder = _robot(tmp_path, "steps:\n" + START + _loop(), timeout_ms=SHORT)
    first = _run(folder, store, {"portail": url})
    assert first.status == "failed"
    assert "“saisie” stopped: item “Lovelace” failed on a timeout before any item succeeded" in (first.error or "")
    assert "5 items left pending" in (first.error or "")
    statuses = {k: i.status for k, i in _items(store, first.run_id).items()}
    assert statuses == {"Lovelace": "application_error", **{p["last"]: "pending" for p in PEOPLE[1:]}}
    state.open = True
    second = asyncio.run(runs.resume(first.run_id, store))
    assert second.status == "succeeded", second.error
    assert sorted(s["last"] for s in state.submitted) == sorted(p["last"] for p in PEOPLE)


def test_retries_and_verify_work_in_the_run_level_page(portal: tuple[Portal, str], store: Store,
                                                       tmp_path: Path) -> None:
    """Concurrency 1: a retried item and a `verify` after a crash both use the page "Start" prepared."""
    state, url = portal
    state.open = False
    # `verify` passes only where the form shows: in the run-level page, after "Start"
    verify = ("    retries: 1\n    backoff_seconds: 0\n    verify:\n      - use: browser.wait_for\n"
              "        with: {css: '#f', state: visible}\n")
    # the first attempt at Turing fails after submitting (an application error), the second succeeds
    again = """      - id: deja
        use: files.read_text
        with: {path: "essai-{{ loop.key }}.txt"}
        continue_on_error: true
      - use: files.write_text
        when: "{{ loop.key == 'Turing' and steps.deja.ok is false }}"
        with: {path: "essai-{{ loop.key }}.txt", text: "1"}
      - use: flow.fail
        when: "{{ loop.key == 'Turing' and steps.deja.ok is false }}"
        with: {message: premier essai, kind: application}
"""
    folder = _robot(tmp_path, "steps:\n" + START + _loop(verify) + again, timeout_ms=SHORT)
    first = _run(folder, store, {"portail": url})
    assert first.status == "failed"  # the closed portal: the loop stopped on its first item
    store.start_item(first.run_id, "Hopper")  # as if the process had died while entering it
    state.open = True
    second = asyncio.run(runs.resume(first.run_id, store))
    assert second.status == "succeeded", second.error
    items = _items(store, first.run_id)
    assert items["Hopper"].verified and items["Hopper"].status == "done"
    assert (items["Turing"].status, items["Turing"].attempts) == ("done", 2)
    submitted = [s["last"] for s in state.submitted]
    assert sorted(submitted) == sorted([p["last"] for p in PEOPLE if p["last"] != "Hopper"] + ["Turing"])
    assert len({s["tab"] for s in state.submitted}) == 1  # one page from the first item to the last


def test_without_stop_on_first_timeout_every_item_waits(portal: tuple[Portal, str], store: Store,
                                                        tmp_path: Path) -> None:
    """stop_on_first_timeout: false keeps the former behaviour: each item fails on its own timeout."""
    state, url = portal
    state.open = False
    people = json.dumps(PEOPLE[:2])
    body = (f"  - for_each: {people}\n    as: p\n    key: \"{{{{ p.last }}}}\"\n"
            f"    stop_on_first_timeout: false\n{FILL}")
    result = _run(_robot(tmp_path, "steps:\n" + START + body, timeout_ms=SHORT), store, {"portail": url})
    assert result.status == "completed_with_errors"
    assert result.counts == {"application_error": 2}


def test_failing_lane_setup_fails_an_item_naming_the_lane(portal: tuple[Portal, str], store: Store,
                                                          tmp_path: Path) -> None:
    """A lane setup that fails is no silent loss: an item says which lane and step failed; the rest wait."""
    _, url = portal
    setup = ("    lane_setup:\n      - id: entree\n        use: browser.click\n"
             "        with: {role: button, name: Commencer}\n")
    folder = _robot(tmp_path, "steps:\n" + START + _loop(setup), timeout_ms=SHORT)
    result = _run(folder, store, {"portail": url})
    assert result.status == "failed"
    items = _items(store, result.run_id)
    assert items["Lovelace"].status == "application_error"
    assert "setup of lane 1 failed (lane_setup, step “entree”)" in (items["Lovelace"].error or "")
    assert items["Lovelace"].evidence  # the lane's page as it was
    assert "no lane could be set up, 5 items left pending" in (result.error or "")
    assert {items[p["last"]].status for p in PEOPLE[1:]} == {"pending"}


def test_loop_variables_follow_jinja(store: Store, tmp_path: Path) -> None:
    """loop.index counts from 1 as in Jinja; index0, first, last, length and lane are there too."""
    body = """steps:
  - for_each: [a, b, c]
    key: "{{ item }}-{{ loop.index }}"
    steps:
      - use: files.write_text
        with:
          path: "journal-{{ loop.key }}.txt"
          text: "{{ loop.index }} {{ loop.index0 }} {{ loop.first }} {{ loop.last }} {{ loop.length }} {{ loop.lane }}"
"""
    folder = _robot(tmp_path, body)
    result = _run(folder, store, {})
    assert result.status == "succeeded", result.error
    got = {p.name: p.read_text() for p in folder.glob("journal-*.txt")}
    assert got == {"journal-a-1.txt": "1 0 True False 3 1", "journal-b-2.txt": "2 1 False False 3 1",
                   "journal-c-3.txt": "3 2 False True 3 1"}


CONCURRENT = """steps:
  - id: lot
    for_each: [a, b, c, d]
    key: "{{ item }}"
    concurrency: "{{ inputs.lanes }}"
    steps:
      - use: files.write_text
        with: {path: "lane-{{ item }}.txt", text: "lane {{ loop.lane }}"}
"""


def test_concurrency_from_an_expression(store: Store, tmp_path: Path) -> None:
    """`concurrency: "{{ inputs.lanes }}"` runs that many lanes."""
    folder = _robot(tmp_path, CONCURRENT)
    result = _run(folder, store, {"lanes": 2})
    assert result.status == "succeeded", result.error
    lanes = {p.read_text() for p in folder.glob("lane-*.txt")}
    assert lanes <= {"lane 1", "lane 2"} and len(list(folder.glob("lane-*.txt"))) == 4


@pytest.mark.parametrize("lanes", [0, 65])
def test_concurrency_expression_out_of_range_names_the_place(store: Store, tmp_path: Path, lanes: int) -> None:
    """An expression giving 0 or 65 fails the run at its start, naming the loop and `concurrency`."""
    folder = _robot(tmp_path, CONCURRENT)
    result = _run(folder, store, {"lanes": lanes})
    assert result.status == "failed"
    assert result.error == (f"boucle › lot › concurrency: “{{{{ inputs.lanes }}}}” gives {lanes}: "
                            f"a number from 1 to 64 is expected, got {lanes}")
    assert store.items(result.run_id) == []  # refused before any step


def test_concurrency_literal_that_is_not_a_number_is_refused_at_load(store: Store, tmp_path: Path) -> None:
    """`concurrency: beaucoup` is a definition error at its line."""
    folder = _robot(tmp_path, CONCURRENT.replace('"{{ inputs.lanes }}"', "beaucoup"))
    with pytest.raises(RobotDefinitionError) as caught:
        load_robot(folder)
    assert "robot.yaml:10:" in str(caught.value)
    assert 'an expression such as "{{ inputs.lanes }}" is expected, got "beaucoup"' in str(caught.value)


def test_failed_continue_on_error_step_leaves_its_output_defined(store: Store, tmp_path: Path) -> None:
    """A failed step with continue_on_error has the output {ok: false, error: "..."}, testable later."""
    body = """steps:
  - id: lecture
    use: files.read_text
    with: {path: absent.txt}
    continue_on_error: true
  - use: files.write_text
    with: {path: "sortie.txt", text: "{{ steps.lecture.ok }}|{{ 'absent.txt' in steps.lecture.error }}"}
  - use: files.write_text
    when: "{{ steps.lecture.ok is false }}"
    with: {path: "repli.txt", text: "repli"}
"""
    folder = _robot(tmp_path, body)
    result = _run(folder, store, {})
    assert result.status == "succeeded", result.error
    assert (folder / "sortie.txt").read_text() == "False|True"
    assert (folder / "repli.txt").read_text() == "repli"


def test_failing_step_is_logged_under_its_own_id(robo_home: Path, store: Store, tmp_path: Path) -> None:
    """A step failing on its parameters is logged under its own id, not the previous step's (`robo run`)."""
    body = """steps:
  - id: premier
    use: flow.log
    with: {message: bonjour}
  - id: second
    use: files.read_text
    with: {path: "{{ inputs.absente }}"}
"""
    done = subprocess.run([*robo_cmd(), "run", str(_robot(tmp_path, body))], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "ROBOCORE_HOME": str(robo_home)})
    assert done.returncode == 1, done.stderr
    (log_file,) = (robo_home / "runs").glob("*/log.jsonl")
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [e.get("step") for e in events if e["event"] in ("robot.message", "run.failed")] == ["premier", "second"]
