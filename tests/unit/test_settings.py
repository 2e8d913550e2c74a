"""Settings: one typed object for every ROBOCORE_* variable, validated once, documented in the README."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from robocore import settings
from robocore.errors import RobocoreError, SettingsError
from robocore.settings import Settings, get_settings, settings_table_markdown, variable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ROBOCORE_* setting in the environment (secret values and test variables may stay)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(variable(name), raising=False)
    return monkeypatch


def test_defaults_and_types(clean_env: pytest.MonkeyPatch) -> None:
    """With no variable set, every setting has its declared default and type."""
    s = get_settings()
    assert (s.home, s.database_url, s.secrets_file, s.chromium) == (None, None, None, None)
    assert (s.robots, s.schedules) == (Path("robots"), Path("schedules"))
    assert (s.executor, s.local_workers, s.busy_retry_seconds) == ("local", 2, 5.0)
    assert (s.broker_url, s.default_queue, s.visibility_timeout) == ("redis://127.0.0.1:6379/0", "robocore", 300.0)
    assert (s.plugins, s.upload_max_mb, s.auth_failures_per_minute, s.annual_hours) == ((), 20.0, 10, 1607.0)


def test_values_are_parsed_to_their_types(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Numbers, paths and the comma-separated plugin list are parsed from the variables' text."""
    clean_env.setenv("ROBOCORE_LOCAL_WORKERS", "3")
    clean_env.setenv("ROBOCORE_UPLOAD_MAX_MB", "1.5")
    clean_env.setenv("ROBOCORE_PLUGINS", " flow, files,")
    clean_env.setenv("ROBOCORE_SCHEDULES", str(tmp_path))
    s = get_settings()
    assert (s.local_workers, s.upload_max_mb, s.plugins, s.schedules) == (3, 1.5, ("flow", "files"), tmp_path)


def test_empty_variable_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    """An empty variable gives the default, as `VAR= robo ...` means "not set"."""
    clean_env.setenv("ROBOCORE_DATABASE_URL", "")
    clean_env.setenv("ROBOCORE_LOCAL_WORKERS", "")
    assert (get_settings().database_url, get_settings().local_workers) == (None, 2)


def test_settings_are_cached_until_a_variable_changes(clean_env: pytest.MonkeyPatch) -> None:
    """The same environment gives the same object; a later setenv (as tests do) is seen at the next call."""
    first = get_settings()
    assert get_settings() is first
    clean_env.setenv("ROBOCORE_EXECUTOR", "celery")
    assert get_settings().executor == "celery"
    clean_env.setenv("ROBOCORE_SECRET_COMPTE_PASSWORD", "x")  # a secret value is not a setting
    assert get_settings() is get_settings()


@pytest.mark.parametrize(("name", "value", "french"), [
    ("ROBOCORE_LOCAL_WORKERS", "abc", "nombre entier attendu"),
    ("ROBOCORE_LOCAL_WORKERS", "0", "valeur attendue ≥ 1"),
    ("ROBOCORE_UPLOAD_MAX_MB", "-1", "valeur attendue > 0"),
    ("ROBOCORE_VISIBILITY_TIMEOUT", "bientôt", "nombre attendu"),
    ("ROBOCORE_AUTH_FAILURES_PER_MINUTE", "1.5", "nombre entier attendu"),
])
def test_wrong_value_names_the_variable(clean_env: pytest.MonkeyPatch, name: str, value: str, french: str) -> None:
    """A wrong value raises a SettingsError naming the variable and what was expected, in our words."""
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        get_settings()
    message = str(caught.value)
    assert isinstance(caught.value, RobocoreError) and caught.value.variables == (name,)
    assert f"{name}={value!r}" in message and "\n" not in message
    assert message.endswith(f"{name}={value!r} : {french}"), message


@pytest.mark.parametrize("command", [["runs"], ["serve", "--port", "1"]])
def test_cli_stops_on_a_wrong_value_with_one_line(clean_env: pytest.MonkeyPatch, command: list[str]) -> None:
    """`robo runs` and `robo serve` with a wrong variable print one error line naming it and exit 2."""
    from robocore.cli.app import app

    clean_env.setenv("ROBOCORE_LOCAL_WORKERS", "abc")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Erreur") and "ROBOCORE_LOCAL_WORKERS='abc'" in lines[0]


def test_helpers_read_the_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """home(), database_url() and robots_dir() follow ROBOCORE_HOME, ROBOCORE_DATABASE_URL, ROBOCORE_ROBOTS."""
    clean_env.setenv("ROBOCORE_HOME", str(tmp_path / "maison"))
    clean_env.setenv("ROBOCORE_ROBOTS", str(tmp_path / "robots"))
    assert settings.home() == tmp_path / "maison" and (tmp_path / "maison").is_dir()
    assert settings.database_url() == f"sqlite:///{tmp_path / 'maison' / 'robocore.db'}"
    assert settings.robots_dir() == tmp_path / "robots"
    clean_env.setenv("ROBOCORE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert settings.database_url() == "postgresql+psycopg://u@h/db"


def test_every_setting_has_a_one_line_description() -> None:
    """Each field has an English one-line description, the README's description column."""
    for name, info in Settings.model_fields.items():
        assert info.description and "\n" not in info.description and info.description.endswith("."), name


def test_readme_table_matches_the_model() -> None:
    """README.md's settings table is the one generated from the model (names, types, defaults, descriptions)."""
    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = script.readme_table((ROOT / "README.md").read_text(encoding="utf-8"))
    assert readme == settings_table_markdown(), "run: python scripts/settings_table.py"
    for name in Settings.model_fields:
        assert f"| `{variable(name)}` |" in readme


def _direct_reads(source: str) -> list[int]:
    """Lines reading a literal ROBOCORE_* name from the environment (secret values excepted)."""
    def literal(node: ast.AST) -> bool:
        if isinstance(node, ast.JoinedStr) and node.values:
            node = node.values[0]
        return (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and node.value.startswith("ROBOCORE_") and not node.value.startswith("ROBOCORE_SECRET_"))

    def environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
            (isinstance(node, ast.Name) and node.id == "environ")

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and literal(node.args[0]):
            f = node.func
            if (isinstance(f, ast.Attribute) and (f.attr == "getenv" or (environ(f.value) and f.attr in (
                    "get", "pop", "setdefault")))) or (isinstance(f, ast.Name) and f.id == "getenv"):
                found.append(node.lineno)
        elif isinstance(node, ast.Subscript) and environ(node.value) and literal(node.slice):
            found.append(node.lineno)
        elif isinstance(node, ast.Compare) and literal(node.left) and any(environ(c) for c in node.comparators):
            found.append(node.lineno)
    return found


def test_direct_read_scanner_finds_every_form() -> None:
    """The scanner below flags os.environ.get, os.getenv, os.environ[...] and `in os.environ`, not secrets."""
    source = ('import os\nos.environ.get("ROBOCORE_A")\nos.getenv("ROBOCORE_B", "1")\nos.environ["ROBOCORE_C"]\n'
              '"ROBOCORE_D" in os.environ\nos.environ.get(f"ROBOCORE_{x}")\nos.environ.get("ROBOCORE_SECRET_X_Y")\n'
              'os.environ.get(env_var(n, f))\n')
    assert _direct_reads(source) == [2, 3, 4, 5, 6]


def test_no_module_reads_robocore_variables_directly() -> None:
    """Only robocore/settings.py reads ROBOCORE_* variables; the rest go through get_settings()."""
    offenders = []
    for path in sorted((ROOT / "robocore").rglob("*.py")):
        if path == ROOT / "robocore" / "settings.py":
            continue
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _direct_reads(path.read_text(encoding="utf-8"))]
    assert not offenders, f"read through robocore.settings.get_settings(): {offenders}"


def test_cli_import_stays_light() -> None:
    """`robo --help` does not import pydantic-settings: the settings are read only when a command runs."""
    code = "import sys, robocore.cli.app; print('pydantic_settings' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_wrong_value_is_said_in_the_language_asked_even_though_the_settings_fail(clean_env: pytest.MonkeyPatch
                                                                                  ) -> None:
    """The settings cannot be read, yet ROBOCORE_LANGUAGE=en (valid) gives the whole line in English; a wrong
    ROBOCORE_LANGUAGE itself gives it in French."""
    clean_env.setenv("ROBOCORE_LANGUAGE", "en")
    clean_env.setenv("ROBOCORE_LOCAL_WORKERS", "abc")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert str(caught.value).startswith("invalid setting: ROBOCORE_LOCAL_WORKERS='abc': ")
    assert "réglage" not in str(caught.value) and " : " not in str(caught.value)
    clean_env.setenv("ROBOCORE_LANGUAGE", "xx")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert str(caught.value).startswith("réglage invalide : ") and "invalid setting" not in str(caught.value)
