"""Hostile robot files: each is refused quickly with file:line:column, in the API and through `robo validate`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from robocore.errors import RobotDefinitionError
from robocore.i18n import use_language
from robocore.loader import load_robot
from robocore.plugins import load_registry

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = FIXTURES / "hostile"
ROBO = Path(sys.executable).with_name("robo")
DEPTH = 100_000
PLUGINS = "flow,files"


def _deep_flow() -> bytes:
    return ("robot: profond\nsteps: " + "[" * DEPTH + "]" * DEPTH + "\n").encode()


def _deep_block() -> bytes:
    # "- - - x": block sequences nested in one another, 100,000 levels on one line
    return ("robot: profond\nsteps:\n  - " + "- " * DEPTH + "x\n").encode()


def _deep_flow_mapping() -> bytes:
    return ("robot: profond\nsteps: " + "{a: " * DEPTH + "x" + "}" * DEPTH + "\n").encode()


def _not_utf8() -> bytes:
    return "robot: latin\nsteps:\n  - use: flow.log\n    with: {message: Numéro}\n".encode("latin-1")


def _control_character() -> bytes:
    return b"robot: nul\nsteps:\n  - use: flow.log\n    with: {message: a\x00b}\n"


def _deep_expression() -> bytes:
    expr = "(" * 20_000 + "1" + ")" * 20_000
    return f"robot: expr\nsteps:\n  - use: flow.log\n    with: {{message: '{{{{ {expr} }}}}'}}\n".encode()


def _huge_integer() -> bytes:
    return ("robot: grand\nsteps:\n  - use: flow.wait\n    with: {seconds: " + "9" * 5000 + "}\n").encode()


def _bad_when() -> bytes:
    return b"robot: quand\nsteps:\n  - use: flow.log\n    when: \"{{ inputs.x == }}\"\n    with: {message: x}\n"


def _numeric_password() -> bytes:
    return b"robot: chiffres\nsteps:\n  - use: flow.set\n    with:\n      values: {mot_de_passe: 123456}\n"


def _undeclared_secret() -> bytes:
    return (b"robot: secret\nsecrets:\n  compte_portail: {fields: [password]}\nsteps:\n  - use: flow.log\n"
            b"    with: {message: \"{{ secrets['compte_portial'].password }}\"}\n")


def _unknown_step() -> bytes:
    return (b"robot: etapes\nsteps:\n  - id: demandes\n    use: flow.set\n    with: {values: {n: 1}}\n"
            b"  - use: flow.log\n    with: {message: \"{{ steps.demande.n }}\"}\n")


# name -> (file content or fixture name, line, column or None, words the message must hold)
CASES: dict[str, tuple[str | bytes, int, int | None, tuple[str, ...]]] = {
    "alias_bomb": ("alias_bomb.yaml", 7, None, ("alias",)),
    "deep_flow": (_deep_flow(), 2, None, ("imbrication trop profonde",)),
    "deep_flow_mapping": (_deep_flow_mapping(), 2, None, ("imbrication trop profonde",)),
    "deep_block": (_deep_block(), 3, None, ("imbrication trop profonde",)),
    "duplicate_key": ("duplicate_key.yaml", 5, 1, ("'steps'", "clé en double", "ligne 2")),
    "python_tag": ("python_tag.yaml", 5, 16, ("python/object/apply", "étiquette YAML interdite")),
    "unknown_action": ("unknown_action.yaml", 5, 10, ("'flow.lgo'", "vouliez-vous dire 'flow.log'")),
    "unknown_key": ("unknown_key.yaml", 4, 5, ("'wiht'", "vouliez-vous dire 'with'")),
    "wrong_type": ("wrong_type.yaml", 5, 16, ("'seconds'", "'flow.wait'", "nombre attendu")),
    "missing_parameter": ("missing_parameter.yaml", 5, 10, ("'seconds'", "'flow.wait'", "obligatoire manquant")),
    "literal_secret_section": ("literal_secret_section.yaml", 5, 5, ("'compte'", "valeur littérale interdite")),
    "literal_password_with": ("literal_password_with.yaml", 7, 19, ("'password'", "valeur littérale interdite")),
    "bad_expression": ("bad_expression.yaml", 7, 16, ("inputs.nom | upper(", "syntaxe invalide")),
    "bad_when": (_bad_when(), 4, 11, ("inputs.x ==", "syntaxe invalide")),
    "numeric_password": (_numeric_password(), 5, 30, ("'mot_de_passe'", "valeur littérale interdite")),
    "not_utf8": (_not_utf8(), 4, 24, ("UTF-8",)),
    "empty": ("empty.yaml", 1, 1, ("fichier vide",)),
    "control_character": (_control_character(), 4, 22, ("U+0000",)),
    "deep_expression": (_deep_expression(), 4, 21, ("trop imbriquée",)),
    "huge_integer": (_huge_integer(), 4, 21, ("valeur illisible",)),
    "undeclared_secret": (_undeclared_secret(), 6, 21, ("'compte_portial'", "vouliez-vous dire 'compte_portail'",
                                                        "secret non déclaré")),
    "unknown_step": (_unknown_step(), 7, 21, ("'demande'", "vouliez-vous dire 'demandes'", "étape inconnue")),
}


@pytest.fixture(scope="module", autouse=True)
def _builtin_plugins_only() -> Iterator[None]:
    """Load only the flow and files plugins for the in-process checks."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ROBOCORE_PLUGINS", PLUGINS)
    mp.setattr("robocore.plugins._registry", None)  # restored after the module
    load_registry(refresh=True)
    yield
    mp.undo()


def _robot_file(name: str, tmp_path: Path) -> Path:
    content = CASES[name][0]
    if isinstance(content, str):
        return HOSTILE / content
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    return path


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(tmp_path / "home"), ROBOCORE_PLUGINS=PLUGINS, COLUMNS="250")
    return env


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_robot_is_refused_at_its_line(name: str, tmp_path: Path) -> None:
    """A hostile robot file raises RobotDefinitionError '<file>:<line>:<column>: ...' in under a second."""
    path = _robot_file(name, tmp_path)
    _, line, column, words = CASES[name]
    started = time.process_time()
    with pytest.raises(RobotDefinitionError) as info:
        load_robot(path)
    elapsed = time.process_time() - started
    message = str(info.value)
    prefix = f"{path}:{line}:{column}:" if column else f"{path}:{line}:"
    assert message.startswith(prefix), message[:300]
    if not column:
        assert message[len(prefix):].split(":", 1)[0].isdigit(), message[:300]
    for word in words:
        assert word in message, message[:300]
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s of CPU"


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    """Loading a `!!python/object/apply` robot runs nothing (the tag is refused before construction)."""
    marker = tmp_path / "pwned"
    path = tmp_path / "robot.yaml"
    path.write_text(f"robot: t\nsteps:\n  - use: flow.log\n    with:\n      message: "
                    f"!!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(RobotDefinitionError):
        load_robot(path)
    assert not marker.exists()


def test_every_error_of_a_file_is_reported_with_its_position(tmp_path: Path) -> None:
    """Two mistakes in one file give two messages, each with its own line."""
    path = tmp_path / "robot.yaml"
    path.write_text("robot: t\nsteps:\n  - use: flow.lgo\n  - use: flow.wait\n    with: {seconds: abc}\n",
                    encoding="utf-8")
    with pytest.raises(RobotDefinitionError) as info:
        load_robot(path)
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{path}:3:")
    assert any(line.startswith(f"{path}:5:") and "'seconds'" in line for line in lines)


def test_literal_secret_given_as_plain_text_is_refused(tmp_path: Path) -> None:
    """`secrets: {compte: hunter2}` is refused as a literal secret, without echoing the value."""
    path = tmp_path / "robot.yaml"
    path.write_text("robot: t\nsecrets:\n  compte: hunter2\nsteps:\n  - use: flow.log\n"
                    "    with: {message: x}\n", encoding="utf-8")
    with pytest.raises(RobotDefinitionError) as info:
        load_robot(path)
    assert str(info.value).startswith(f"{path}:3:")
    assert "valeur littérale interdite" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_valid_robot_loads() -> None:
    """The valid fixture robot loads into a spec."""
    loaded = load_robot(FIXTURES / "robots" / "valide.yaml")
    assert loaded.spec.robot == "valide"
    assert len(loaded.spec.steps) == 2


@pytest.mark.parametrize("name", list(CASES))
def test_robo_validate_refuses_hostile_robot_without_traceback(name: str, tmp_path: Path) -> None:
    """`robo validate FILE` exits 1 with the file:line: message and never prints a Python traceback."""
    path = _robot_file(name, tmp_path)
    line = CASES[name][1]
    proc = subprocess.run([str(ROBO), "validate", str(path)], capture_output=True, text=True,
                          env=_cli_env(tmp_path), timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert f"{path}:{line}:" in proc.stderr.replace("\n", ""), proc.stderr


def test_robo_validate_accepts_valid_robot(tmp_path: Path) -> None:
    """`robo validate` on a valid robot exits 0 and says so."""
    path = FIXTURES / "robots" / "valide.yaml"
    proc = subprocess.run([str(ROBO), "validate", str(path)], capture_output=True, text=True,
                          env=_cli_env(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valide.yaml" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_definition_errors_read_in_english_when_the_language_is_english(tmp_path: Path) -> None:
    """The same refusals come out in English with the language set to en, French by default."""
    path = tmp_path / "robot.yaml"
    path.write_text("robot: t\nsteps:\n  - use: flow.lgo\n  - use: flow.wait\n    with: {seconds: abc}\n",
                    encoding="utf-8")
    with use_language("en"), pytest.raises(RobotDefinitionError) as english:
        load_robot(path)
    assert "unknown action 'flow.lgo' — did you mean 'flow.log'?" in str(english.value)
    assert "a number expected" in str(english.value)
    with pytest.raises(RobotDefinitionError) as french:
        load_robot(path)
    assert "action inconnue 'flow.lgo' — vouliez-vous dire 'flow.log' ?" in str(french.value)
    assert "nombre attendu" in str(french.value)
