"""Secrets never leak: not in logs, console, the store or error messages; providers are strict."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest

from robocore.errors import RobotDefinitionError
from robocore.secrets import MASK, EnvProvider, FileProvider, Secret, resolve, scrub

ROBO = Path(sys.executable).with_name("robo")

LEAKY_ROBOT = """\
robot: fuite-secret
title: Un robot qui essaie de divulguer son mot de passe
secrets:
  compte: {fields: [password]}
steps:
  - use: flow.log
    with: {message: "mot de passe : {{ secrets.compte.password }}", level: debug}
  - use: flow.log
    with: {message: "{{ secrets.compte.password }}", level: debug}
  - id: copie
    use: flow.set
    with: {values: {mdp: "{{ secrets.compte.password }}"}}
  - use: flow.log
    with: {message: "{{ steps.copie }}", level: info}
  - for_each: ["A1", "A2"]
    as: dossier
    key: "{{ dossier }}"
    steps:
      - use: flow.log
        with: {message: "{{ dossier }} {{ secrets.compte.password }}", level: warning}
      - use: flow.fail
        with: {message: "Refus du dossier {{ dossier }} avec {{ secrets.compte.password }}"}
  - for_each: ["B1"]
    key: "{{ item }}-{{ secrets.compte.password }}"
    steps:
      - use: flow.wait
        with: {seconds: "{{ secrets.compte.password }}"}
  - for_each: ["C1"]
    key: "{{ item }}"
    retries: 1
    backoff_seconds: 0
    steps:
      - use: flow.fail
        with: {message: "{{ secrets.compte.password }}", kind: application}
  - use: flow.fail
    with: {message: "{{ secrets.compte.password }}"}
"""


def _marker() -> str:
    # characters that URL-encoding changes, so the encoded forms differ from the plain one
    return f"S3cr3t-{uuid.uuid4().hex}/+&="


def _forms(marker: str) -> list[str]:
    raw = marker.encode()
    forms = {marker, urllib.parse.quote(marker, safe=""), urllib.parse.quote_plus(marker),
             urllib.parse.quote(marker)}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms |= {enc.decode(), enc.decode().rstrip("=")}
    return sorted(forms)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(home), ROBOCORE_PLUGINS="flow,files", COLUMNS="250", **extra)
    return env


def _robo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROBO), *args], capture_output=True, text=True, env=env, timeout=120)


def _dump_store(db: Path) -> str:
    """Every column of every row of every table, as text."""
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"runs", "items", "step_events", "robot_versions", "ledger"} <= set(tables)
        lines = []
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                lines.append(f"{table}: " + " | ".join(map(str, row)))
        return "\n".join(lines)
    finally:
        con.close()


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run the leaky robot once through the CLI with --debug, then `robo logs` and `robo runs`."""
    root = tmp_path_factory.mktemp("fuite")
    home, robot_dir = root / "home", root / "fuite-secret"
    robot_dir.mkdir()
    (robot_dir / "robot.yaml").write_text(LEAKY_ROBOT, encoding="utf-8")
    marker = _marker()
    env = _env(home, ROBOCORE_SECRET_COMPTE_PASSWORD=marker)
    run = _robo("run", str(robot_dir), "--debug", env=env)
    run_ids = [p.name for p in (home / "runs").iterdir()]
    assert len(run_ids) == 1, run.stderr
    logs = _robo("logs", run_ids[0], env=env)
    history = _robo("runs", env=env)
    return {"marker": marker, "home": home, "run": run, "logs": logs, "history": history,
            "run_id": run_ids[0]}


def test_leaky_robot_really_failed(leaky_run: dict[str, object]) -> None:
    """The leaky robot ran, failed as intended, and recorded its items' errors (masked)."""
    run = leaky_run["run"]
    assert isinstance(run, subprocess.CompletedProcess)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    dump = _dump_store(Path(str(leaky_run["home"])) / "robocore.db")
    assert "business_error" in dump and "application_error" in dump
    assert MASK in dump
    log_text = (Path(str(leaky_run["home"])) / "runs" / str(leaky_run["run_id"]) / "log.jsonl").read_text()
    assert '"level": "debug"' in log_text and "robot.message" in log_text


@pytest.mark.parametrize("where", ["run_logs", "console", "store", "every_file"])
def test_secret_and_its_encodings_appear_nowhere(leaky_run: dict[str, object], where: str) -> None:
    """The secret, plain, URL-encoded or Base64, is in no run log, CLI output, store column or file of the home."""
    home = Path(str(leaky_run["home"]))
    if where == "run_logs":
        texts = {str(p): p.read_text(encoding="utf-8", errors="replace") for p in (home / "runs").rglob("*")
                 if p.is_file()}
        assert texts
    elif where == "console":
        texts = {}
        for name in ("run", "logs", "history"):
            proc = leaky_run[name]
            assert isinstance(proc, subprocess.CompletedProcess)
            texts[f"{name}.stdout"], texts[f"{name}.stderr"] = proc.stdout, proc.stderr
    elif where == "store":
        texts = {"store": _dump_store(home / "robocore.db")}
    else:  # raw bytes, including the SQLite WAL and any file a step may have written
        texts = {str(p): p.read_bytes().decode("latin-1") for p in home.rglob("*") if p.is_file()}
    for form in _forms(str(leaky_run["marker"])):
        for name, text in texts.items():
            assert form not in text, f"secret form {form!r} found in {name}"


def test_scrub_removes_value_and_encodings() -> None:
    """scrub() masks a registered secret and its URL-encoded and Base64 forms."""
    marker = _marker()
    Secret(marker, "test.scrub")
    for form in _forms(marker):
        assert scrub(f"avant {form} après") == f"avant {MASK} après"


def test_secret_str_and_repr_are_masked() -> None:
    """str(), repr() and f-strings of a Secret never show its value; reveal() does."""
    marker = _marker()
    secret = Secret(marker, "compte.password")
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret]), str({"k": secret})):
        assert marker not in shown
    assert MASK in str(secret) and "compte.password" in repr(secret)
    assert secret.reveal() == marker


def test_file_provider_refuses_file_readable_by_others(tmp_path: Path) -> None:
    """A secrets file with mode 0644 is refused with a message that says to chmod 600."""
    path = tmp_path / "secrets.yaml"
    path.write_text("compte:\n  password: hunter2-fichier\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(PermissionError) as info:
        FileProvider(path).get("compte", "password")
    assert "chmod 600" in str(info.value) and str(path) in str(info.value)
    assert "hunter2" not in str(info.value)


def test_file_provider_accepts_owner_only_file(tmp_path: Path) -> None:
    """A secrets file with mode 0600 is read."""
    path = tmp_path / "secrets.yaml"
    path.write_text("compte:\n  password: hunter2-fichier\n", encoding="utf-8")
    path.chmod(0o600)
    assert FileProvider(path).get("compte", "password") == "hunter2-fichier"
    assert FileProvider(path).get("compte", "username") is None
    assert FileProvider(tmp_path / "absent.yaml").get("compte", "password") is None


def test_missing_secret_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A missing secret is a clear error naming the environment variable to set."""
    monkeypatch.delenv("ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD", raising=False)
    providers = [EnvProvider(), FileProvider(tmp_path / "absent.yaml")]
    with pytest.raises(RobotDefinitionError) as info:
        resolve({"compte-portail": ["password"]}, providers, "robots/x/robot.yaml")
    assert "ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD" in str(info.value)
    assert "compte-portail.password" in str(info.value)
    monkeypatch.setenv("ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD", "valeur-env")
    resolved = resolve({"compte-portail": ["password"]}, providers, "robots/x/robot.yaml")
    assert resolved["compte-portail"]["password"].reveal() == "valeur-env"


def _secret_robot(root: Path) -> Path:
    robot_dir = root / "robot"
    robot_dir.mkdir()
    (robot_dir / "robot.yaml").write_text(
        "robot: besoin-secret\nsecrets:\n  compte: {fields: [password]}\nsteps:\n"
        "  - use: flow.log\n    with: {message: \"{{ secrets.compte.password }}\"}\n", encoding="utf-8")
    return robot_dir


def test_cli_missing_secret_and_open_secrets_file(tmp_path: Path) -> None:
    """`robo run` with a missing secret, or a 0644 secrets file, exits 1 with a clear message and no traceback."""
    robot_dir = _secret_robot(tmp_path)
    env = _env(tmp_path / "home")
    missing = _robo("run", str(robot_dir), "-q", env=env)
    assert missing.returncode == 1
    assert "ROBOCORE_SECRET_COMPTE_PASSWORD" in missing.stderr and "Traceback" not in missing.stderr
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text("compte:\n  password: hunter2-fichier\n", encoding="utf-8")
    secrets_file.chmod(0o644)
    opened = _robo("run", str(robot_dir), "-q", env={**env, "ROBOCORE_SECRETS_FILE": str(secrets_file)})
    assert opened.returncode == 1
    assert "chmod 600" in opened.stderr and "Traceback" not in opened.stderr
    assert "hunter2" not in opened.stdout + opened.stderr
    secrets_file.chmod(0o600)
    ok = _robo("run", str(robot_dir), "-q", env={**env, "ROBOCORE_SECRETS_FILE": str(secrets_file)})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "hunter2" not in ok.stdout + ok.stderr


def test_run_with_missing_secret_is_not_left_running(tmp_path: Path) -> None:
    """A run refused for a missing secret is not left in the store with status 'running'."""
    robot_dir = _secret_robot(tmp_path)
    home = tmp_path / "home"
    proc = _robo("run", str(robot_dir), "-q", env=_env(home))
    assert proc.returncode == 1
    con = sqlite3.connect(home / "robocore.db")
    try:
        statuses = [r[0] for r in con.execute("SELECT status FROM runs")]
    finally:
        con.close()
    assert "running" not in statuses
