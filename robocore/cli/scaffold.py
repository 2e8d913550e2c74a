"""`robo new robot NAME`: a robot folder that validates and runs as created, with its test and the
JSON Schema its `$schema` line points at."""

from __future__ import annotations

import re
from pathlib import Path

from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _

TEMPLATE = """\
# yaml-language-server: $schema=../robot.schema.json
robot: {name}
title: {title}
description: Robot créé par `robo new robot`. Remplacez les étapes par les vôtres.
version: 1
process:
  name: {title}
  service: Mon service
  manual_minutes_per_item: 2
  manual_minutes_per_run: 5
inputs:
  dossier:
    type: text
    label: Dossier des fichiers à traiter
    default: donnees
steps:
  - id: fichiers
    use: files.list
    with: {{folder: "{{{{ inputs.dossier }}}}", pattern: "*.txt"}}
  - id: traitement
    for_each: "{{{{ steps.fichiers.files }}}}"
    as: fichier
    key: "{{{{ fichier }}}}"
    retries: 1
    steps:
      - use: flow.log
        with: {{message: "Traitement de {{{{ fichier }}}}"}}
"""


TEST_TEMPLATE = '''\
"""Tests of the robot {name}, with the fixtures of `robocore.testing` (run: pytest {folder}/tests)."""

from pathlib import Path

ROBOT = Path(__file__).resolve().parents[1]


def test_processes_each_file_once(run_robot) -> None:
    run = run_robot(ROBOT)  # inputs={{...}}, secrets={{"nom": {{"username": ..., "password": ...}}}}

    assert run.ok, run.error
    assert [Path(item.key).name for item in run.items] == ["exemple.txt"]
    assert run.count("done") == 1
    # manual_minutes_per_item × done items + manual_minutes_per_run
    assert run.minutes_saved == 2 * 1 + 5
'''

SCHEMA_NAME = "robot.schema.json"


def scaffold(name: str, parent: Path) -> Path:
    """Create <parent>/<name>/robot.yaml with sample data and tests/; refuse to overwrite.

    The robot's `$schema` line points at <parent>/robot.schema.json, written here when missing
    (`robo schema -o` refreshes it after installing a plugin).
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise RobotDefinitionError(_("invalid robot name '{name}': lowercase letters, digits, - and _", name=name))
    folder = parent / name
    if folder.exists():
        raise RobotDefinitionError(_("the folder already exists: {folder}", folder=folder))
    (folder / "donnees").mkdir(parents=True)
    (folder / "donnees" / "exemple.txt").write_text("Bonjour\n", encoding="utf-8")
    path = folder / "robot.yaml"
    path.write_text(TEMPLATE.format(name=name, title=name.replace("-", " ").capitalize()), encoding="utf-8")
    (folder / "tests").mkdir()
    test_file = folder / "tests" / f"test_{name.replace('-', '_')}.py"
    test_file.write_text(TEST_TEMPLATE.format(name=name, folder=folder.name), encoding="utf-8")
    schema = parent / SCHEMA_NAME
    if not schema.exists():
        write_schema(schema)
    return path


def write_schema(target: Path) -> None:
    """The robots' JSON Schema (every installed action), written whole or not at all."""
    import json
    import os
    import tempfile

    from robocore.plugins import load_registry
    from robocore.schema import robot_schema

    text = json.dumps(robot_schema(load_registry()), ensure_ascii=False, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".robot.schema.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
