"""Roles kept on our side for people whose provider sends none (ProConnect sends identities, not roles).

`<ROBOCORE_HOME>/oidc-people.yaml` maps a person's email (any case) or subject to a role, or to a
role and groups:

    alice.martin@ddets.gouv.fr: manager
    bruno.petit@ddets.gouv.fr: {role: engineer, groups: [ddets-31]}

It is read at each sign-in (an edit applies at the person's next sign-in, no restart) and checked
at start-up, so that a mistake fails `robo serve` with the file, the entry and what is wrong. The
file decides who is admin: it is refused when others than its owner may write it. When the
provider's roles claim names a Robocore role, that claim wins; groups from both are kept.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from robocore.errors import SettingsError

FILE = "oidc-people.yaml"
ROLES = ("agent", "engineer", "manager", "admin")  # as robocore.server.auth.ROLES (not imported: no cycle)


@dataclass(frozen=True)
class Entry:
    """A person's role and groups as the people file gives them."""

    role: str
    groups: tuple[str, ...] = ()


def _entry(path: Path, key: str, value: Any) -> Entry:
    where = f"{path}: '{key}'"
    if isinstance(value, str):
        value = {"role": value}
    if not isinstance(value, Mapping) or set(value) - {"role", "groups"}:
        raise SettingsError(f"{where} : un rôle, ou {{role, groups}} attendu / a role, or {{role, groups}}, expected")
    role, groups = value.get("role"), value.get("groups") or []
    if role not in ROLES:
        raise SettingsError(f"{where} : rôle inconnu {role!r} (rôles : {', '.join(ROLES)}) / unknown role {role!r}")
    if not isinstance(groups, list) or not all(isinstance(g, str) and 0 < len(g.strip()) <= 100 for g in groups):
        raise SettingsError(f"{where} : 'groups' doit être une liste de noms / 'groups' must be a list of names")
    return Entry(str(role), tuple(sorted({g.strip() for g in groups})))


def load(home: Path) -> dict[str, Entry]:
    """The people file's entries by lower-cased email or subject; empty when there is no file."""
    path = home / FILE
    if not path.exists():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SettingsError(f"{path} : modifiable par d'autres utilisateurs (mode {oct(mode & 0o777)}) ; faites "
                            f"`chmod 644 {path}` / people file writable by others, refused")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} : YAML invalide / invalid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise SettingsError(f"{path} : une table personne → rôle attendue / a mapping person → role expected")
    return {str(key).strip().lower(): _entry(path, str(key), value) for key, value in data.items()}


def lookup(home: Path, email: str | None, sub: str) -> Entry | None:
    """The entry of a person by email (any case), else by subject, or None."""
    entries = load(home)
    if not entries:
        return None
    return (entries.get(email.strip().lower()) if email else None) or entries.get(sub.strip().lower())
