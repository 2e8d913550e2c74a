"""A saved Playwright trace made fit to keep: credentials stripped, passwords refused.

A trace archive (`trace.zip`) holds JSON-lines files (`*.trace`: actions and DOM snapshots;
`*.network`: one HAR-like entry per request), page resources and screencast frames. Before a
trace is kept as evidence:

- every `Cookie`, `Set-Cookie`, `Authorization` and `Proxy-Authorization` header and every
  parsed cookie list is removed from its JSON lines (network entries, and action parameters or
  results such as `storageState`); the values removed, when long enough to be credentials, are
  also masked wherever else they appear (a page printing its session token);
- if a password value (any secret but an identifier, `robocore.secrets.password_values`) is
  still found anywhere but in images, the trace is deleted;
- the archive is rewritten atomically (a new file renamed over the old one) and reopened: every
  JSON line must parse. A trace that cannot be cleaned is deleted, never kept as it was.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from robocore.secrets import MASK, password_name, password_values

CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})
IMAGES = (".jpeg", ".jpg", ".png", ".webp")
JSON_LINES = (".trace", ".network")
MIN_MASKED = 12  # shorter cookie values (`fr`, `accepted`) are not credentials; masking them would maim the page


class Dropped(StrEnum):
    """Why a trace was not kept."""

    SECRET = "secret"  # a password value was found in it
    UNCLEAN = "unclean"  # it could not be read, cleaned or rewritten


@dataclass(frozen=True)
class Verdict:
    """Why a trace was deleted, and the name of the secret found in it (`portail.password`) if known."""

    reason: Dropped
    secret: str | None = None


def leak_forms(values: list[str]) -> set[bytes]:
    """The byte forms a value takes in a trace: raw, JSON-escaped (ASCII or not) and HTML-escaped."""
    return set(_named_forms(values, {}))


def _named_forms(values: list[str], names: dict[str, str | None]) -> dict[bytes, str | None]:
    """Each byte form of each value (see leak_forms), with the name found for the value in `names`."""
    forms: dict[bytes, str | None] = {}
    for value in values:
        for form in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
                     html.escape(value)):
            forms.setdefault(form.encode(), names.get(value))
    return forms


def _strip(node: Any, removed: set[str]) -> Any:
    """`node` without credential headers nor cookie lists; the values taken out are added to `removed`."""
    if isinstance(node, list):
        return [_strip(v, removed) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "cookies" and isinstance(value, list):
            removed.update(str(c["value"]) for c in value if isinstance(c, dict) and "value" in c)
            out[key] = []
        elif key == "headers" and isinstance(value, list):
            kept = []
            for header in value:
                if isinstance(header, dict) and str(header.get("name", "")).lower() in CREDENTIAL_HEADERS:
                    removed.add(str(header.get("value", "")))
                else:
                    kept.append(_strip(header, removed))
            out[key] = kept
        else:
            out[key] = _strip(value, removed)
    return out


def _credential_values(header: str) -> set[str]:
    """The secret parts of a removed header value: the whole, a scheme's token, each cookie's value."""
    parts = {header}
    scheme, _, token = header.partition(" ")
    if token and scheme.isalpha():
        parts.add(token)
    for cookie in header.replace("\n", ";").split(";"):
        name, eq, value = cookie.strip().partition("=")
        if eq and name:
            parts.add(value.strip())
    return parts


def _strip_lines(data: bytes, removed: set[str]) -> bytes:
    """A JSON-lines file with its credentials removed (unchanged lines kept byte for byte)."""
    out = []
    for line in data.split(b"\n"):
        if line.strip():
            found: set[str] = set()
            cleaned = _strip(json.loads(line), found)
            if found:
                removed.update(found)
                line = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode()
        out.append(line)
    return b"\n".join(out)


def _mask(data: bytes, forms: set[bytes]) -> bytes:
    for form in sorted(forms, key=len, reverse=True):
        data = data.replace(form, MASK.encode())
    return data


def _parses(data: bytes) -> bool:
    try:
        for line in data.split(b"\n"):
            if line.strip():
                json.loads(line)
    except ValueError:
        return False
    return True


def clean_trace(path: Path) -> Verdict | None:
    """Make the trace at `path` fit to keep (see the module); None when kept, else why it was deleted."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [(info, archive.read(info)) for info in archive.infolist()]
        removed: set[str] = set()
        texts = {info.filename: _strip_lines(data, removed) for info, data in entries
                 if info.filename.endswith(JSON_LINES)}
        values = {part for header in removed for part in _credential_values(header) if len(part) >= MIN_MASKED}
        found = password_values()
        credentials, passwords = leak_forms(sorted(values)), _named_forms(found, {v: password_name(v) for v in found})
        with zipfile.ZipFile(tmp, "w") as out:
            for info, data in entries:
                data = texts.get(info.filename, data)
                if not info.filename.endswith(IMAGES):
                    data = _mask(data, credentials)
                    leaked = next((form for form in passwords if form in data), None)
                    if leaked is not None:
                        raise _Refused(Dropped.SECRET, passwords[leaked])
                    if info.filename.endswith(JSON_LINES) and not _parses(data):
                        raise _Refused(Dropped.UNCLEAN)
                out.writestr(info, data)
        _check(tmp, credentials)
        os.replace(tmp, path)
        return None
    except _Refused as refused:
        verdict = Verdict(refused.reason, refused.secret)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError):
        verdict = Verdict(Dropped.UNCLEAN)
    for leftover in (tmp, path):
        with contextlib.suppress(OSError):
            leftover.unlink()
    return verdict


def _check(path: Path, credentials: set[bytes]) -> None:
    """Reopen the rewritten archive: every JSON line parses, no credential header is left."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(JSON_LINES):
                data = archive.read(info)
                leftover: set[str] = set()
                for line in data.split(b"\n"):
                    if line.strip():
                        _strip(json.loads(line), leftover)
                if leftover or any(form in data for form in credentials):
                    raise _Refused(Dropped.UNCLEAN)


class _Refused(Exception):
    def __init__(self, reason: Dropped, secret: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.secret = reason, secret
