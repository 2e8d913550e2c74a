"""Secret values: a masked type, the providers that fetch them, and scrubbing.

A secret field is either a password (the default: any secret value) or an identifier (declared
`identifiers: [username]` in the robot file): a value the target site itself shows on its pages,
such as the agent's user name. Both are scrubbed from logs, errors, reports and the store alike;
the difference is for browser traces only: an identifier present in a trace does not void it, a
password does (`password_values`).
"""

from __future__ import annotations

import base64
import hmac
import os
import stat
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _

MASK = "********"
_HASH_KEY = os.urandom(16)  # keys Secret.__hash__ (see there)
_MIN_SCRUB_LENGTH = 4  # shorter values would mask ordinary words
_lock = threading.Lock()
_known: dict[str, None] = {}
_ordered: tuple[str, ...] = ()  # _known longest first, rebuilt on register: scrub() runs on every log event
_passwords: dict[str, str | None] = {}  # each form of a password value (not identifiers) -> its secret's name
_passwords_ordered: tuple[str, ...] = ()


class Secret:
    """A secret value whose str() and repr() never show it; call reveal() to use it.

    Attributes:
        name: a label such as `portail.password` (never the value).
        identifier: True for an identifier field (shown by the site on its pages: it may stay in a
            browser trace); False for a password, which never may.
    """

    __slots__ = ("_value", "identifier", "name")

    def __init__(self, value: str, name: str = "secret", *, identifier: bool = False) -> None:
        self._value = value
        self.name = name
        self.identifier = identifier
        register(value, identifier=identifier, name=name)

    def reveal(self) -> str:
        """Return the clear value (only at the point of use: typing it, sending it)."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {MASK})"

    # Two Secrets are equal when their values are, whatever their names: the name is a label
    # (`compte.password`, or `template` once rendered into a text), while what is masked, and
    # what a set or dict of secrets to redact must hold once, is the value. The hash follows
    # the value too, so that equal secrets always hash equal; it is a keyed digest (a random
    # key per process), so a hash tells nothing about the value even when PYTHONHASHSEED is
    # fixed. compare_digest: no timing hint.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(hmac.digest(_HASH_KEY, self._value.encode(), "sha256"))


def _encodings(value: str) -> Iterable[str]:
    raw = value.encode()
    yield value
    yield urllib.parse.quote(value, safe="")
    yield urllib.parse.quote(value)  # as in a URL path: '/' kept
    yield urllib.parse.quote_plus(value)
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = enc.decode()
        yield text
        yield text.rstrip("=")
    yield value.encode("unicode_escape").decode()
    yield raw.hex()


def register(value: str, *, identifier: bool = False, name: str | None = None) -> None:
    """Remember a secret value so that scrub() removes it and its encodings everywhere.

    A value registered once as a password stays one, even if also registered as an identifier;
    `name` (`portail.password`, never the value) lets a message say which secret was found.
    """
    if len(value) < _MIN_SCRUB_LENGTH:
        return
    global _ordered, _passwords_ordered
    if name is not None and "." not in name:  # `template`, `secret`: not a declared `name.field`
        name = None
    forms = [form for form in _encodings(value) if len(form) >= _MIN_SCRUB_LENGTH]
    with _lock:
        before = len(_known)
        _known.update(dict.fromkeys(forms))
        if len(_known) != before:
            _ordered = tuple(sorted(_known, key=len, reverse=True))
        if not identifier:
            before = len(_passwords)
            for form in forms:
                if _passwords.get(form) is None:
                    _passwords[form] = name
            if len(_passwords) != before:
                _passwords_ordered = tuple(sorted(_passwords, key=len, reverse=True))


def known_values() -> list[str]:
    """The registered secret forms, longest first (so a longer form is replaced whole)."""
    return list(_ordered)


def password_values() -> list[str]:
    """The registered forms of password values (every secret but identifiers), longest first."""
    return list(_passwords_ordered)


def password_name(form: str) -> str | None:
    """The name of the secret a password form belongs to (None if unnamed or unknown)."""
    return _passwords.get(form)


def scrub(text: str) -> str:
    """Replace every registered secret value (and its common encodings) by a mask."""
    if not _ordered or not text:
        return text
    for form in _ordered:
        if form in text:
            text = text.replace(form, MASK)
    return text


def scrub_any(value: Any) -> Any:
    """Scrub strings nested in dicts, lists and tuples; secrets become the mask."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        return {scrub_any(k): scrub_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_any(v) for v in value]
    return value


class SecretProvider(Protocol):
    """Where secret fields come from (env, a file, Vault, a keyring...)."""

    def get(self, name: str, field: str) -> str | None:
        """Return the field of the named secret, or None when this provider lacks it."""


class EnvProvider:
    """Reads ROBOCORE_SECRET_<NAME>_<FIELD> (upper-cased, '-' and '.' become '_')."""

    def get(self, name: str, field: str) -> str | None:
        return os.environ.get(env_var(name, field))


def env_var(name: str, field: str) -> str:
    """The environment variable EnvProvider reads for one secret field."""
    return f"ROBOCORE_SECRET_{name}_{field}".upper().replace("-", "_").replace(".", "_")


class FileProvider:
    """Reads a YAML file {name: {field: value}} that only its owner may read or write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            mode = self.path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise PermissionError(
                    _("{path}: secrets file readable by other users (mode {mode}), refused; run `chmod 600 {path}`",
                      path=self.path, mode=oct(mode & 0o777)))
            import yaml

            loaded = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{self.path}: expected a mapping of secret names")
            self._data = loaded
        return self._data

    def get(self, name: str, field: str) -> str | None:
        if not self.path.exists():
            return None
        entry = self._load().get(name)
        if isinstance(entry, dict) and field in entry:
            value = entry[field]
            return None if value is None else str(value)
        return None


def default_providers(home: Path) -> list[SecretProvider]:
    """Environment first, then <home>/secrets.yaml (or ROBOCORE_SECRETS_FILE), then plugins."""
    from robocore.settings import get_settings  # lazily: `robo --help` imports this module

    path = get_settings().secrets_file or home / "secrets.yaml"
    providers: list[SecretProvider] = [EnvProvider(), FileProvider(path)]
    providers.extend(plugin_providers())
    return providers


class UnavailableProvider:
    """Stands for a plugin provider that could not be loaded or created: it provides nothing, and
    its report is given with any secret not found (it may have been the one holding it)."""

    def __init__(self, report: str) -> None:
        self.report = report

    def get(self, name: str, field: str) -> str | None:
        return None


def plugin_providers() -> list[SecretProvider]:
    """A new instance of each provider of the `robocore.secret_providers` entry points (loaded once
    per process); a broken one is reported, skipped, and stands in as an UnavailableProvider."""
    from robocore import extensions

    loaded = extensions.load(extensions.SECRET_PROVIDERS)
    providers: list[SecretProvider] = [UnavailableProvider(b.report) for b in loaded.broken.values()]
    for plugin in loaded:
        try:
            providers.append(plugin.obj())
        except Exception as exc:  # its constructor failed: the same policy as a failed import
            providers.append(UnavailableProvider(extensions.report_broken(plugin.origin, exc).report))
    return providers


def resolve(declared: Mapping[str, Iterable[str]], providers: list[SecretProvider],
            robot: str, identifiers: Mapping[str, Iterable[str]] | None = None) -> dict[str, dict[str, Secret]]:
    """Fetch every declared secret field; a missing one is a clear error naming it.

    `identifiers` names, per secret, the fields that are identifiers rather than passwords.
    """
    out: dict[str, dict[str, Secret]] = {}
    for name, fields in declared.items():
        out[name] = {}
        for field in fields:
            value = next((v for p in providers if (v := p.get(name, field)) is not None), None)
            if value is None:
                unloaded = "".join(_("; plugin not loaded: {plugin}", plugin=p.report)
                                   for p in providers if isinstance(p, UnavailableProvider))
                secret = f"{name}.{field}"
                raise RobotDefinitionError(_("secret '{secret}' not found: set {variable} or add it to the secrets "
                                             "file{unloaded}", secret=secret, variable=env_var(name, field),
                                             unloaded=unloaded), path=robot)
            shown = field in (identifiers or {}).get(name, ())
            out[name][field] = Secret(value, f"{name}.{field}", identifier=shown)
    return out
