"""robocore.tray.credentials: the token in a working keyring, else in a file only its owner reads."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from robocore.tray.credentials import Credentials, Token, default_file


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.kept.pop((service, username), None)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())


def test_file_fallback_is_0600(no_keyring: None, tray_dirs: Path) -> None:
    """Without a keyring backend the token goes to a file in the user's config folder, mode 0600."""
    credentials = Credentials()
    credentials.save("https://robocore.test", Token("rbc_secret"))
    assert credentials.where == "file" and credentials.path == default_file()
    assert str(credentials.path).startswith(str(tray_dirs / "config"))
    assert stat.S_IMODE(credentials.path.stat().st_mode) == 0o600
    assert Credentials().load("https://robocore.test") == Token("rbc_secret")
    credentials.forget("https://robocore.test")
    assert Credentials().load("https://robocore.test") is None


def test_file_stays_0600_when_rewritten(no_keyring: None, tmp_path: Path) -> None:
    """A second server's token rewrites the file, still 0600 (created private, never widened)."""
    path = tmp_path / "c.json"
    path.write_text("{}")
    path.chmod(0o644)
    credentials = Credentials(path)
    credentials.save("https://a", Token("rbc_a"))
    credentials.save("https://b", Token("rbc_b"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (credentials.load("https://a"), credentials.load("https://b")) == (Token("rbc_a"), Token("rbc_b"))


def test_keyring_when_it_works(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A working keyring keeps the token; no file is written."""
    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: memory)
    monkeypatch.setattr(keyring, "set_password", memory.set_password)
    monkeypatch.setattr(keyring, "get_password", memory.get_password)
    credentials = Credentials(tmp_path / "c.json")
    credentials.save("https://robocore.test", Token("rbc_k"))
    assert credentials.where == "keyring" and memory.kept == {("robocore", "https://robocore.test"): "rbc_k"}
    assert not (tmp_path / "c.json").exists() and credentials.load("https://robocore.test") == Token("rbc_k")


def test_token_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    """A Token prints as *** in repr, str and f-strings."""
    token = Token("rbc_very_secret")
    print(token, repr(token), f"{token}")
    assert "rbc_very_secret" not in capsys.readouterr().out and token.secret == "rbc_very_secret"
