"""One path policy for every action: traversal, absolute paths and symlinks refused, through every
built-in path-taking action, through the sample robot launched by the API, and allowed folders honoured."""

from __future__ import annotations

import asyncio
import http.server
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from robocore import runs
from robocore.context import Context, RunSettings
from robocore.loader import load_robot
from robocore.paths import PathRefused
from robocore.plugins import ActionDef, load_registry
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import RUN_FINAL, RunStatus
from robocore.store import Store
from tests.conftest import ROOT, need_chromium
from tests.integration.api_support import FakeExecutor, bearer, execute, robots_folder, workbook

STEP = "etape-piegee"
ROWS = [{"Numéro": "N-1", "Nom": "Dossier 1"}]


# ---- every built-in action that takes a path ------------------------------------------------------
def _takes_path(annotation: Any) -> bool:
    """Whether a parameter's type can carry a path (Path, or a model or union holding one)."""
    if annotation is Path:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(_takes_path(f.annotation) for f in annotation.model_fields.values())
    return any(_takes_path(arg) for arg in get_args(annotation))


def _builtin_path_parameters() -> set[tuple[str, str]]:
    """(action, parameter) for every path-typed parameter of the actions robocore ships."""
    found = set()
    for action_def in load_registry():
        if not action_def.func.__module__.startswith("robocore.actions."):
            continue  # a third-party plugin installed in this environment: not ours to list
        for name, info in action_def.params.model_fields.items():
            if _takes_path(info.annotation):
                found.add((action_def.name, name))
    return found


def _reconcile(side: str, as_mapping: bool) -> Callable[[str], dict[str, Any]]:
    other = "right" if side == "left" else "left"

    def build(p: str) -> dict[str, Any]:
        given: Any = {"path": p, "sheet": 1} if as_mapping else p
        return {side: given, other: ROWS, "left_key": "Numéro", "right_key": "Numéro"}
    return build


# Each (action, parameter) → the `with:` of a step giving it the attacker's path (several ways when
# the parameter takes several shapes). `folder` marks parameters that name a folder.
CASES: dict[tuple[str, str], list[Callable[[str], dict[str, Any]]]] = {
    ("files.list", "folder"): [lambda p: {"folder": p, "recursive": True}],
    ("files.read_text", "path"): [lambda p: {"path": p}],
    ("files.write_text", "path"): [lambda p: {"path": p, "text": "pirate"}],
    ("files.copy", "source"): [lambda p: {"source": p, "destination": "copie.xlsx"}],
    ("files.copy", "destination"): [lambda p: {"source": "entree.xlsx", "destination": p, "overwrite": True}],
    ("files.move", "source"): [lambda p: {"source": p, "destination": "deplace.xlsx"}],
    ("files.move", "destination"): [lambda p: {"source": "entree.xlsx", "destination": p, "overwrite": True}],
    ("excel.read_table", "path"): [lambda p: {"path": p}],
    ("excel.sheets", "path"): [lambda p: {"path": p}],
    ("excel.write_table", "path"): [lambda p: {"path": p, "rows": ROWS}],
    ("excel.append_rows", "path"): [lambda p: {"path": p, "rows": ROWS}],
    ("reconcile.tables", "left"): [_reconcile("left", False), _reconcile("left", True)],
    ("reconcile.tables", "right"): [_reconcile("right", False), _reconcile("right", True)],
    ("reconcile.tables", "output"): [lambda p: {"left": ROWS, "right": ROWS, "left_key": "Numéro",
                                                "right_key": "Numéro", "output": p}],
    ("browser.upload", "path"): [lambda p: {"field": "Pièce justificative", "path": p}],
    ("browser.download", "save_as"): [lambda p: {"text": "Télécharger", "save_as": p}],
}
FOLDER_PARAMETERS = {("files.list", "folder")}


def test_every_path_taking_builtin_action_is_covered() -> None:
    """A new built-in action (or parameter) typed to take a path fails here until it is added to CASES."""
    found = _builtin_path_parameters()
    assert found - set(CASES) == set(), "actions prenant un chemin sans test de confinement"
    assert set(CASES) - found == set(), "CASES cite un paramètre qui ne prend plus de chemin"


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    """A robot folder and a run folder, and outside them a real workbook and a folder an attacker aims at."""
    robot, run, outside = tmp_path / "robot", tmp_path / "home" / "runs" / "r1", tmp_path / "dehors"
    for folder in (robot, run, outside):
        folder.mkdir(parents=True)
    workbook(robot / "entree.xlsx")
    victim = workbook(outside / "victime.xlsx")
    (robot / "lien.xlsx").symlink_to(victim)
    (robot / "lien_dossier").symlink_to(outside)
    return {"robot": robot, "run": run, "outside": outside, "victim": victim}


def _attack(site: dict[str, Path], kind: str, folder: bool) -> str:
    """The attacker's path: `..` from the robot folder, an absolute path, or a symlink inside."""
    target = site["outside"] if folder else site["victim"]
    return {"traversal": os.path.relpath(target, site["robot"]), "absolute": str(target),
            "symlink": "lien_dossier" if folder else "lien.xlsx"}[kind]


def _call(action_def: ActionDef, ctx: Context, with_: dict[str, Any]) -> Any:
    """Validate and call an action as the engine does (step id set first)."""
    kwargs = action_def.validate(with_)
    ctx.step_id = STEP
    if not action_def.is_async:
        return action_def.func(ctx, **kwargs)

    async def run() -> Any:
        try:
            return await action_def.func(ctx, **kwargs)
        finally:
            await ctx.aclose()
    return asyncio.run(run())


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink"])
@pytest.mark.parametrize("case", [(a, p, i) for (a, p), builds in CASES.items() for i in range(len(builds))],
                         ids=lambda c: f"{c[0]}.{c[1]}#{c[2]}")
def test_path_parameter_refuses_what_leaves_the_run_folders(site: dict[str, Path], case: tuple[str, str, int],
                                                            kind: str) -> None:
    """Traversal, an absolute path outside and a symlink leading out: a BusinessError naming the step
    and the path, and nothing outside read into the run, written, moved or created."""
    action, parameter, index = case
    action_def = load_registry().get(action)
    assert action_def is not None
    bad = _attack(site, kind, (action, parameter) in FOLDER_PARAMETERS)
    before = _snapshot(site["outside"])
    ctx = Context(run_id="r1", robot="piege", robot_dir=site["robot"], run_dir=site["run"],
                  settings=RunSettings(timeout_ms=3000))
    with pytest.raises(PathRefused) as caught:
        _call(action_def, ctx, CASES[(action, parameter)][index](bad))
    message = str(caught.value)
    assert message.startswith(f"étape « {STEP} » : chemin « {bad} » refusé"), message
    assert _snapshot(site["outside"]) == before
    assert sorted(p.name for p in site["outside"].iterdir()) == ["victime.xlsx"]
    assert (site["robot"] / "entree.xlsx").is_file()


def test_the_same_paths_work_inside_the_run_folders(site: dict[str, Path]) -> None:
    """The cases above are refused for their path alone: inside the folders the same calls work."""
    registry = load_registry()
    ctx = Context(run_id="r1", robot="piege", robot_dir=site["robot"], run_dir=site["run"])
    inside = {"excel.read_table": "entree.xlsx", "excel.sheets": "entree.xlsx", "excel.append_rows": "entree.xlsx",
              "excel.write_table": str(site["run"] / "ecrit.xlsx"), "files.read_text": "notes.txt"}
    (site["robot"] / "notes.txt").write_text("ok", encoding="utf-8")
    for action, path in inside.items():
        action_def = registry.get(action)
        assert action_def is not None
        _call(action_def, ctx, CASES[(action, "path")][0](path))
    result = _call(registry.get("reconcile.tables"), ctx,  # type: ignore[arg-type]
                   {**_reconcile("left", True)("entree.xlsx"), "output": str(site["run"] / "r.xlsx")})
    assert result["report"] == str((site["run"] / "r.xlsx").resolve())


class _Pages(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(Path(__file__).parent / "pages"), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass


@pytest.mark.browser
def test_browser_fill_of_a_file_field_and_screenshot_names_are_confined(site: dict[str, Path]) -> None:
    """browser.fill giving a file field a path outside is refused like upload; a screenshot name cannot
    leave the item's evidence folder."""
    from robocore.actions import browser

    need_chromium()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    async def body() -> Path:
        ctx = Context(run_id="r1", robot="piege", robot_dir=site["robot"], run_dir=site["run"],
                      settings=RunSettings(timeout_ms=5000))
        ctx.step_id = STEP
        try:
            await browser.open_page(ctx, url=f"http://127.0.0.1:{httpd.server_port}/form.html")
            for kind in ("traversal", "absolute", "symlink"):
                with pytest.raises(PathRefused, match=f"^étape « {STEP} » : chemin"):
                    await browser.fill(ctx, fields={"Pièce justificative": _attack(site, kind, False)})
            shot = await browser.screenshot(ctx, name="../../../dehors/capture")
            return Path(shot["path"])
        finally:
            await ctx.aclose()

    try:
        shot = asyncio.run(body())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert shot.is_file() and shot.is_relative_to((site["run"] / "evidence").resolve())
    assert sorted(p.name for p in site["outside"].iterdir()) == ["victime.xlsx"]


# ---- the sample robot through the API ---------------------------------------------------------------
def _wait_final(store: Store, run_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run is not None and run.status in RUN_FINAL:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not final after {timeout} s")


def _unguarded_copy(robots: Path) -> str:
    """The sample robot as it was found: without its step checking that `resultat` is a plain name."""
    folder = robots / "rapprochement-brut"
    shutil.copytree(ROOT / "robots" / "rapprochement-paiements", folder)
    text = (folder / "robot.yaml").read_text(encoding="utf-8")
    guard = text[text.index("  - id: nom_du_classeur"):text.index("  # Both workbooks")]
    text = text.replace(guard, "").replace("robot: rapprochement-paiements", "robot: rapprochement-brut")
    (folder / "robot.yaml").write_text(text, encoding="utf-8")
    return "rapprochement-brut"


def test_sample_robot_resultat_traversal_by_an_agent_cannot_overwrite_a_file(robo_home: Path,
                                                                             tmp_path: Path) -> None:
    """Reproduced finding: an agent launching rapprochement-paiements with `resultat: ../../../some/dir/
    victim.txt` through the API, run by the real local executor, used to replace victim.txt with a
    workbook. Now the shipped robot refuses the name, and the robot as it was found (without that check)
    fails at its reconciliation step, the path policy naming the path; the victim is intact."""
    from robocore.executors import local

    robots = tmp_path / "robots"
    shutil.copytree(ROOT / "robots" / "rapprochement-paiements", robots / "rapprochement-paiements")
    unguarded = _unguarded_copy(robots)
    victim = tmp_path / "some" / "dir" / "victim.txt"
    victim.parent.mkdir(parents=True)
    victim.write_text("à garder", encoding="utf-8")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    os.environ["ROBOCORE_DATABASE_URL"] = store.url
    executor = local.LocalExecutor(workers=1)
    errors: dict[str, str] = {}
    try:
        agent = bearer(create_token(store, "agent", "agent", ["finances"]))
        with TestClient(create_app(store, executor=executor, robots_dir=robots)) as client:
            for robot in ("rapprochement-paiements", unguarded):
                store.add_grant(robot, "finances")
                response = client.post(f"/api/v1/robots/{robot}/runs", headers=agent,
                                       json={"inputs": {"resultat": "../../../some/dir/victim.txt"}})
                assert response.status_code == 201, response.text
                run = _wait_final(store, response.json()["id"])
                assert run.status is RunStatus.FAILED, robot
                errors[robot] = run.error or ""
    finally:
        executor.shutdown(wait=True)
        os.environ.pop("ROBOCORE_DATABASE_URL", None)
        store.close()
    assert victim.read_text(encoding="utf-8") == "à garder"
    assert [p.name for p in victim.parent.iterdir()] == ["victim.txt"]
    assert errors["rapprochement-paiements"].startswith("Nom du classeur « ../../../some/dir/victim.txt » refusé")
    assert errors[unguarded].startswith("étape « rapprochement » : chemin « ")
    assert "/../../../some/dir/victim.txt » refusé, hors du dossier du robot" in errors[unguarded]


# ---- allowed folders ----------------------------------------------------------------------------------
READER = """\
robot: lecteur
title: Lecteur d'un classeur partagé
inputs:
  chemin: {type: text, label: Chemin du classeur}
steps:
  - id: lecture
    use: excel.read_table
    with: {path: "{{ inputs.chemin }}"}
  - for_each: "{{ steps.lecture.rows }}"
    as: ligne
    key: "{{ ligne['numero'] }}"
    steps:
      - use: flow.log
        with: {message: "{{ ligne['numero'] }}"}
"""


@pytest.fixture
def shared_folder(tmp_path: Path) -> Path:
    """A server folder holding a workbook, beside a secret workbook outside it."""
    folder = tmp_path / "partage"
    folder.mkdir()
    workbook(folder / "liste.xlsx", rows=3)
    workbook(tmp_path / "secret.xlsx", rows=1)
    (folder / "lien.xlsx").symlink_to(tmp_path / "secret.xlsx")
    return folder


def test_robot_reads_a_workbook_from_an_allowed_folder(robo_home: Path, tmp_path: Path, shared_folder: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With ROBOCORE_ALLOWED_DIRS a robot reads a workbook there; without it, or `../` from it, the run fails."""
    folder = tmp_path / "robots" / "lecteur"
    folder.mkdir(parents=True)
    (folder / "robot.yaml").write_text(READER, encoding="utf-8")
    loaded = load_robot(folder / "robot.yaml")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    start = partial(runs.start, loaded, store)
    try:
        refused = asyncio.run(start({"chemin": str(shared_folder / "liste.xlsx")}))
        assert refused.status is RunStatus.FAILED
        monkeypatch.setenv("ROBOCORE_ALLOWED_DIRS", str(shared_folder))
        allowed = asyncio.run(start({"chemin": str(shared_folder / "liste.xlsx")}))
        assert (allowed.status, allowed.counts) == (RunStatus.SUCCEEDED, {"done": 3})
        for escape in (str(shared_folder / ".." / "secret.xlsx"), str(shared_folder / "lien.xlsx")):
            result = asyncio.run(start({"chemin": escape}))
            assert result.status is RunStatus.FAILED
            error = store.get_run(result.run_id).error  # type: ignore[union-attr]
            assert error is not None and error.startswith(f"étape « lecture » : chemin « {escape} » refusé")
    finally:
        store.close()


@pytest.fixture
def api(robo_home: Path, tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    """The API (SQLite, a recording executor) with an agent's token granted the test robots."""
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    agent = bearer(create_token(store, "agent", "agent", ["ddets"]))
    for robot in ("lecture-classeur", "lot-50"):
        store.add_grant(robot, "ddets")
    with TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))) as client:
        yield client, store, agent
    store.close()


def test_api_file_input_named_inside_an_allowed_folder(api: tuple[TestClient, Store, dict[str, str]],
                                                       shared_folder: Path, robo_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A file input named (not uploaded) is found in ROBOCORE_ALLOWED_DIRS and the run reads it;
    `..`, absolute paths and a link out are 400, an absent name 422, and nothing is recorded for them."""
    client, store, agent = api
    monkeypatch.setenv("ROBOCORE_ALLOWED_DIRS", str(shared_folder))
    url = "/api/v1/robots/lecture-classeur/runs"
    for name, status, code in (("../secret.xlsx", 400, "file_input_not_allowed"),
                               (str(shared_folder / "liste.xlsx"), 400, "file_input_not_allowed"),
                               ("lien.xlsx", 400, "file_input_not_allowed"),
                               ("absent.xlsx", 422, "file_input_not_found")):
        response = client.post(url, json={"inputs": {"classeur": name}}, headers=agent)
        assert (response.status_code, response.json()["code"]) == (status, code), name
        assert response.json()["detail"].startswith("entrée fichier 'classeur' : ")
    form = client.post(url, data={"classeur": "../secret.xlsx"}, files={"commentaire": (None, "x")}, headers=agent)
    assert (form.status_code, form.json()["code"]) == (400, "file_input_not_allowed")
    assert store.list_runs() == []
    response = client.post(url, json={"inputs": {"classeur": "liste.xlsx"}}, headers=agent)
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    assert store.get_run(run_id).inputs["classeur"] == str((shared_folder / "liste.xlsx").resolve())  # type: ignore[union-attr]
    execute(run_id, store)
    run = store.get_run(run_id)
    assert run is not None and run.status is RunStatus.SUCCEEDED and store.counts(run_id) == {"done": 3}


# ---- inputs bounded through the API -----------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity", b"1e309", b'"nan"', b'"inf"'])
def test_api_refuses_numbers_that_are_not_finite(api: tuple[TestClient, Store, dict[str, str]], raw: bytes) -> None:
    """JSON NaN/Infinity (which pydantic reads as floats), 1e309 and "nan": 422 naming the input, nothing stored."""
    client, store, agent = api
    response = client.post("/api/v1/robots/lot-50/runs", content=b'{"inputs": {"nombre": ' + raw + b"}}",
                           headers={**agent, "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_inputs"
    assert "entrée « Nombre d'éléments » (nombre) : nombre fini attendu" in response.json()["detail"]
    assert store.list_runs() == []


def test_api_refuses_an_overlong_text_input(api: tuple[TestClient, Store, dict[str, str]], tmp_path: Path,
                                            robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text input over ROBOCORE_INPUT_MAX_CHARS is 422 naming the input and the limit; nothing is kept."""
    client, store, agent = api
    monkeypatch.setenv("ROBOCORE_INPUT_MAX_CHARS", "50")
    book = workbook(tmp_path / "liste.xlsx")
    with book.open("rb") as fh:
        response = client.post("/api/v1/robots/lecture-classeur/runs", data={"commentaire": "é" * 51},
                               files={"classeur": ("liste.xlsx", fh, "application/octet-stream")}, headers=agent)
    assert response.status_code == 422, response.text
    assert "entrée « Commentaire » (commentaire) : 51 caractères, 50 au plus" in response.json()["detail"]
    assert store.list_runs() == [] and not any((robo_home / "runs").glob("*/inputs"))
