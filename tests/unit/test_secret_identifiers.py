"""Identifier fields of a secret: declared in the robot file, checked at load, scrubbed like any secret,
yet left out of the values whose presence voids a browser trace."""

from __future__ import annotations

import secrets as random
from pathlib import Path

import pytest

from robocore.errors import RobotDefinitionError
from robocore.i18n import use_language
from robocore.loader import load_robot
from robocore.secrets import MASK, Secret, known_values, password_values, resolve, scrub

ROBOT = """\
robot: avec-identifiant
secrets:
  portail: {{fields: [username, password], identifiers: {identifiers}}}
steps:
  - use: flow.log
    with: {{message: bonjour}}
"""


class _Provider:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str, field: str) -> str | None:
        return self.values.get(f"{name}.{field}")


def test_identifiers_are_declared_per_secret(tmp_path: Path) -> None:
    """`identifiers: [username]` loads; a secret without the key has none."""
    (tmp_path / "robot.yaml").write_text(ROBOT.format(identifiers="[username]"), encoding="utf-8")
    spec = load_robot(tmp_path).spec
    assert spec.secrets["portail"].identifiers == ["username"]
    (tmp_path / "robot.yaml").write_text(ROBOT.replace(", identifiers: {identifiers}", "").format(), encoding="utf-8")
    assert load_robot(tmp_path).spec.secrets["portail"].identifiers == []


@pytest.mark.parametrize(("lang", "expected"), [
    ("fr", "l'identifiant « user » n'est pas un des champs de ce secret (username, password)"),
    ("en", "identifier 'user' is not one of the fields of this secret (username, password)"),
])
def test_an_identifier_that_is_not_a_field_is_refused_at_load(tmp_path: Path, lang: str, expected: str) -> None:
    """A misspelt identifier is refused when the robot is loaded, naming the place and the fields."""
    (tmp_path / "robot.yaml").write_text(ROBOT.format(identifiers="[user]"), encoding="utf-8")
    with use_language(lang), pytest.raises(RobotDefinitionError) as caught:
        load_robot(tmp_path)
    assert expected in str(caught.value)
    assert "secrets.portail" in str(caught.value)


def test_resolved_identifier_is_scrubbed_but_does_not_void_traces() -> None:
    """An identifier is a Secret masked everywhere; only the password counts as a trace leak."""
    user, password = "ident-" + random.token_hex(6), "mdp-" + random.token_hex(8)
    got = resolve({"portail": ["username", "password"]},
                  [_Provider({"portail.username": user, "portail.password": password})], "robot.yaml",
                  identifiers={"portail": ["username"]})
    username, pwd = got["portail"]["username"], got["portail"]["password"]
    assert (username.identifier, pwd.identifier) == (True, False)
    assert str(username) == MASK and user not in repr(username)
    assert scrub(f"agent {user} / {password}") == f"agent {MASK} / {MASK}"
    assert user in known_values() and password in known_values()
    assert password in password_values() and user not in password_values()


def test_a_value_also_registered_as_a_password_stays_a_password() -> None:
    """The same value declared an identifier in one secret and a password in another voids traces."""
    shared = "partage-" + random.token_hex(6)
    Secret(shared, "a.username", identifier=True)
    assert shared not in password_values()
    Secret(shared, "b.password")
    Secret(shared, "a.username", identifier=True)
    assert shared in password_values()
