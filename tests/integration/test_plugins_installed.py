"""A third-party plugin, pip-installed, provides actions to robots; duplicate action names fail at start-up."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_dist import write_distribution

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "plugins" / "robocore-plugin-exemple"
PYTHON = Path(sys.executable)
ROBO = PYTHON.with_name("robo")
PLUGINS = "flow,files,exemple"

ROBOT = """\
robot: salutations
steps:
  - id: salut
    use: exemple.saluer
    with: {nom: "{{ inputs.nom }}", fois: 2}
  - use: flow.log
    with: {message: "résultat={{ steps.salut.message }} ({{ steps.salut.longueur }})", level: warning}
inputs:
  nom: {type: text, default: Ada}
"""

DUPLICATE_MODULE = '''\
"""A plugin that wrongly provides an action already provided by the flow plugin."""
from robocore import Context, action


@action("flow.log")
def log(ctx: Context, message: str) -> None:
    """Another flow.log."""
'''


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYTHON), "-m", "pip", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example plugin (no deps) into a private folder that the `robo` subprocesses import from.

    Not into the shared venv: a test process (or a colleague's) that started before the
    install would see the entry point but could not import the module.
    """
    root = tmp_path_factory.mktemp("plugin")
    source, site = root / "src", root / "site"
    shutil.copytree(PLUGIN_DIR, source)  # the build writes build/ and *.egg-info beside the sources
    args = ("install", "--no-deps", "--no-build-isolation", "--no-compile", "-q", "--target", str(site), str(source))
    proc = _pip(*args)
    if proc.returncode != 0:  # no setuptools/wheel in this venv: let pip fetch the build backend
        proc = _pip(*(a for a in args if a != "--no-build-isolation"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(site.glob("robocore_plugin_exemple-*.dist-info/entry_points.txt"))
    return site


def _env(home: Path, plugins: str = PLUGINS, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(home), ROBOCORE_PLUGINS=plugins, COLUMNS="250", **extra)
    return env


def _robo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROBO), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture()
def duplicate_path(tmp_path: Path) -> Path:
    """A folder to put on PYTHONPATH holding a module and a dist-info whose entry point re-provides flow.log."""
    root = tmp_path / "site"
    (root / "doublon-0.1.dist-info").mkdir(parents=True)
    (root / "doublon_plugin.py").write_text(DUPLICATE_MODULE, encoding="utf-8")
    (root / "doublon-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: doublon\nVersion: 0.1\n", encoding="utf-8")
    (root / "doublon-0.1.dist-info" / "entry_points.txt").write_text(
        "[robocore.plugins]\ndoublon = doublon_plugin\n", encoding="utf-8")
    return root


def test_robot_uses_third_party_action(plugin_site: Path, tmp_path: Path) -> None:
    """A robot calls exemple.saluer from the installed plugin; its output feeds the next step."""
    robot_dir = tmp_path / "salutations"
    robot_dir.mkdir()
    (robot_dir / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    home = tmp_path / "home"
    env = _env(home, PYTHONPATH=str(plugin_site))
    proc = _robo("run", str(robot_dir), "-q", "--input", "nom=Grace", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = "résultat=Bonjour Grace ! Bonjour Grace ! (31)"
    assert expected in proc.stderr
    (log_file,) = (home / "runs").glob("*/log.jsonl")
    events = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert any(e.get("message") == expected for e in events)
    assert any(e["event"] == "exemple.salut" and e.get("nom") == "Grace" for e in events)


def test_validate_checks_third_party_parameters(plugin_site: Path, tmp_path: Path) -> None:
    """`robo validate` checks a plugin action's parameters from its signature (type and name)."""
    path = tmp_path / "robot.yaml"
    path.write_text("robot: t\nsteps:\n  - use: exemple.saluer\n    with: {nom: Ada, fois: beaucoup}\n"
                    "  - use: exemple.salur\n    with: {nom: Ada}\n", encoding="utf-8")
    proc = _robo("validate", str(path), env=_env(tmp_path / "home", PYTHONPATH=str(plugin_site)))
    assert proc.returncode == 1
    assert f"{path}:4:" in proc.stderr and "'fois'" in proc.stderr
    assert f"{path}:5:" in proc.stderr and "vouliez-vous dire 'exemple.saluer'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_plugins_command_lists_third_party_action(plugin_site: Path, tmp_path: Path) -> None:
    """`robo plugins` lists exemple.saluer with its parameters and its plugin, beside the built-ins."""
    proc = _robo("plugins", env=_env(tmp_path / "home", PYTHONPATH=str(plugin_site)))
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "exemple.saluer" in line)
    assert "nom" in row and "fois?" in row and "plugin 'exemple'" in row
    assert "flow.log" in proc.stdout and "files.copy" in proc.stdout


def test_schema_includes_third_party_action(plugin_site: Path, tmp_path: Path) -> None:
    """`robo schema` includes exemple.saluer and its parameters."""
    proc = _robo("schema", env=_env(tmp_path / "home", PYTHONPATH=str(plugin_site)))
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert "exemple.saluer" in schema["$defs"]["ActionStep"]["properties"]["use"]["enum"]
    branch = next(b for b in schema["$defs"]["ActionStep"]["allOf"]
                  if b["if"]["properties"]["use"]["const"] == "exemple.saluer")
    params = branch["then"]["properties"]["with"]
    assert set(params["properties"]) == {"nom", "fois"} and params["required"] == ["nom"]


def test_third_party_result_is_documented_like_a_builtin(plugin_site: Path, tmp_path: Path) -> None:
    """exemple.saluer's TypedDict result shows in `robo plugins ACTION`, in `robo docs` and in `robo schema`."""
    env = _env(tmp_path / "home", PYTHONPATH=str(plugin_site))
    proc = _robo("plugins", "exemple.saluer", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "| `message` | `str` | the greeting, repeated `fois` times |" in proc.stdout
    assert "| `fois` | `int` | `1` | how many times to repeat the greeting. |" in proc.stdout
    assert "use: exemple.saluer" in proc.stdout
    out = tmp_path / "reference"
    proc = _robo("docs", "--output", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    page, md = (out / "actions.html").read_text(encoding="utf-8"), (out / "actions.md").read_text(encoding="utf-8")
    assert "plugin 'exemple' (robocore-plugin-exemple: robocore_plugin_exemple.actions)" in md
    assert "| `longueur` | `int` | the greeting's length in characters |" in md
    assert "<code>longueur</code>" in page and "flow.log" in page
    schema = json.loads(_robo("schema", env=env).stdout)
    result = schema["$defs"]["Result_exemple_saluer"]
    assert result["required"] == ["message", "longueur"]
    assert result["properties"]["longueur"] == {"type": "integer", "description": "the greeting's length in characters"}


@pytest.mark.parametrize("command", [["plugins"], ["validate"], ["run"]])
def test_duplicate_action_fails_at_start_up_naming_both(duplicate_path: Path, tmp_path: Path,
                                                        command: list[str]) -> None:
    """Two plugins providing flow.log stop `robo` at start-up with a message naming both plugins."""
    robot = tmp_path / "robot.yaml"
    robot.write_text("robot: t\nsteps:\n  - use: flow.log\n    with: {message: x}\n", encoding="utf-8")
    args = command + ([str(robot)] if command != ["plugins"] else [])
    env = _env(tmp_path / "home", plugins="flow,files,doublon", PYTHONPATH=str(duplicate_path))
    proc = _robo(*args, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = proc.stderr.replace("\n", " ")
    assert "'flow.log'" in message and "provided twice" in message
    assert "plugin 'flow'" in message and "plugin 'doublon'" in message
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "runs").exists() or not any((tmp_path / "home" / "runs").iterdir())


@pytest.fixture()
def broken_path(tmp_path: Path) -> Path:
    """A folder to put on PYTHONPATH: a distribution with one broken extension of each kind."""
    broken = "import dependance_absente_du_test  # noqa: F401\n"
    return write_distribution(tmp_path / "site", "extensions-cassees", {
        "robocore.plugins": {"casse": "casse_actions"},
        "robocore.executors": {"casse": "casse_executors:Executor"},
        "robocore.secret_providers": {"casse": "casse_providers:Provider"},
    }, {"casse_actions": broken, "casse_executors": broken, "casse_providers": broken})


MISSING = "ModuleNotFoundError: No module named 'dependance_absente_du_test'"


def test_plugins_command_lists_extensions_and_broken_ones(broken_path: Path, tmp_path: Path) -> None:
    """`robo plugins` lists the loaded executors and the broken extension of each kind with its error."""
    env = _env(tmp_path / "home", plugins="flow,files,casse", PYTHONPATH=str(broken_path))
    proc = _robo("plugins", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "executor 'local' (robocore: robocore.executors.local:LocalExecutor)" in proc.stdout
    assert "plugin 'flow' (robocore: robocore.actions.flow)" in proc.stdout
    errors = proc.stderr.replace("\n", " ")
    for kind, target in (("plugin", "casse_actions"), ("executor", "casse_executors:Executor"),
                         ("secret provider", "casse_providers:Provider")):
        assert f"Extension {kind} non chargée : {kind} 'casse' (extensions-cassees: {target}) — {MISSING}" in errors


def test_robot_using_a_broken_plugin_is_refused_naming_it(broken_path: Path, tmp_path: Path) -> None:
    """`robo run` of a robot using an action of a broken plugin fails at load, naming the plugin and its error."""
    robot = tmp_path / "robot.yaml"
    robot.write_text("robot: t\nsteps:\n  - use: casse.faire\n", encoding="utf-8")
    home = tmp_path / "home"
    proc = _robo("run", str(robot), "-q", env=_env(home, plugins="flow,files,casse", PYTHONPATH=str(broken_path)))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = proc.stderr.replace("\n", " ")
    assert "plugin 'casse' (extensions-cassees: casse_actions)" in message and MISSING in message
    assert "Traceback" not in proc.stderr
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_broken_executor_named_by_the_setting_fails_naming_it(broken_path: Path, tmp_path: Path) -> None:
    """`robo run --remote` with ROBOCORE_EXECUTOR naming a broken executor fails with its report, recording no run."""
    robot = tmp_path / "robot.yaml"
    robot.write_text("robot: t\nsteps:\n  - use: flow.log\n    with: {message: x}\n", encoding="utf-8")
    env = _env(tmp_path / "home", PYTHONPATH=str(broken_path), ROBOCORE_EXECUTOR="casse")
    proc = _robo("run", str(robot), "--remote", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = proc.stderr.replace("\n", " ")
    assert "executor 'casse' (extensions-cassees: casse_executors:Executor)" in message and MISSING in message
    assert "Traceback" not in proc.stderr
    database = tmp_path / "home" / "robocore.db"
    if database.exists():  # the executor is checked before the run is recorded: none is left queued
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
