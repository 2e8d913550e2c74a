"""The agent's token: in the OS keyring when a backend works, else a file only its owner can read (0600).

The token is never logged nor shown: `Token` masks itself in `repr`/`str`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs
import structlog

log = structlog.get_logger("robocore.tray.credentials")
SERVICE = "robocore"


class Token:
    """A token that never shows itself: `repr`/`str` print `***`; `.secret` is the value to send."""

    __slots__ = ("secret",)

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __repr__(self) -> str:
        return "Token('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other.secret == self.secret

    def __hash__(self) -> int:
        return hash(self.secret)


def default_file() -> Path:
    """`<user config dir>/robocore/tray-credentials.json`, the fallback when no keyring works."""
    return platformdirs.user_config_path("robocore", appauthor=False) / "tray-credentials.json"


def _keyring() -> Any | None:
    """The keyring module when a real backend is there (not the `fail` or `null` ones), else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration: fall back to the file
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


class Credentials:
    """One token per server URL, in the keyring or in the private file.

    Args:
        use_keyring: False forces the file (tests, or a keyring the agent does not want).
    """

    def __init__(self, path: Path | None = None, use_keyring: bool = True) -> None:
        self.path = path or default_file()
        self._keyring = _keyring() if use_keyring else None

    @property
    def where(self) -> str:
        return "keyring" if self._keyring is not None else "file"

    def save(self, server: str, token: Token) -> None:
        if self._keyring is not None:
            try:
                self._keyring.set_password(SERVICE, server, token.secret)
                return
            except Exception as exc:  # locked or refusing keyring: the file keeps working
                log.warning("tray.keyring_unusable", server=server, error=type(exc).__name__)
                self._keyring = None
        data = self._read()
        data[server] = token.secret
        self._write(data)

    def load(self, server: str) -> Token | None:
        if self._keyring is not None:
            try:
                found = self._keyring.get_password(SERVICE, server)
            except Exception as exc:
                log.warning("tray.keyring_unusable", server=server, error=type(exc).__name__)
                found = None
            if found:
                return Token(found)
        found = self._read().get(server)
        return Token(found) if isinstance(found, str) and found else None

    def forget(self, server: str) -> None:
        """Remove the server's token (after a 401, before signing in again)."""
        if self._keyring is not None:
            try:
                self._keyring.delete_password(SERVICE, server)
            except Exception:  # absent there: nothing to remove
                pass
        data = self._read()
        if data.pop(server, None) is not None:
            self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        """Write the file created 0600 from the start (never readable by others, even for a moment)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if hasattr(os, "fchmod"):  # a tmp left by a crash may have other bits; not on Windows
                os.fchmod(fh.fileno(), 0o600)
            json.dump(data, fh)
        os.replace(tmp, self.path)
