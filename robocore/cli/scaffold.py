"""`robo new robot NAME`: a robot folder that validates and runs as created."""

from __future__ import annotations

import re
from pathlib import Path

from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _

TEMPLATE = """\
# yaml-language-server: $schema=../../robot.schema.json
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


def scaffold(name: str, parent: Path) -> Path:
    """Create <parent>/<name>/robot.yaml with sample data; refuse to overwrite."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise RobotDefinitionError(_("invalid robot name '{name}': lowercase letters, digits, - and _", name=name))
    folder = parent / name
    if folder.exists():
        raise RobotDefinitionError(_("the folder already exists: {folder}", folder=folder))
    (folder / "donnees").mkdir(parents=True)
    (folder / "donnees" / "exemple.txt").write_text("Bonjour\n", encoding="utf-8")
    path = folder / "robot.yaml"
    path.write_text(TEMPLATE.format(name=name, title=name.replace("-", " ").capitalize()), encoding="utf-8")
    return path
