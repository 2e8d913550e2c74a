"""Cleaning a saved trace archive before it is kept: credentials out, passwords refused, rewritten whole.

The archives are built here with the files and JSON-lines shapes Playwright writes (trace.trace,
trace.network, resources/, screencast/); tests/integration/test_trace_secrets.py cleans real ones.
"""

from __future__ import annotations

import json
import secrets as random
import zipfile
from pathlib import Path

from robocore.actions._browser_trace import Dropped, Verdict, clean_trace
from robocore.secrets import Secret

COOKIE, TOKEN = "sess-" + random.token_hex(16), "tok-" + random.token_hex(16)
USER = "agent-" + random.token_hex(4)
Secret(USER, "portail.username", identifier=True)


def _network() -> dict[str, object]:
    return {"type": "resource-snapshot", "snapshot": {
        "pageref": "page@1", "startedDateTime": "2026-12-01T10:00:00.000Z", "time": 12.5,
        "request": {"method": "GET", "url": "http://127.0.0.1/compte", "httpVersion": "HTTP/1.1",
                    "cookies": [{"name": "sessionid", "value": COOKIE}],
                    "headers": [{"name": "Accept", "value": "text/html"},
                                {"name": "Cookie", "value": f"lang=fr; sessionid={COOKIE}"},
                                {"name": "Authorization", "value": f"Bearer {TOKEN}"},
                                {"name": "proxy-authorization", "value": f"Basic {TOKEN}"}],
                    "queryString": [], "headersSize": 420, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                     "cookies": [{"name": "sessionid", "value": COOKIE, "path": "/", "httpOnly": True}],
                     "headers": [{"name": "Content-Type", "value": "text/html"},
                                 {"name": "Set-Cookie", "value": f"sessionid={COOKIE}; Path=/; HttpOnly"}],
                     "content": {"size": 40, "mimeType": "text/html", "_sha1": "page.html"},
                     "headersSize": 120, "bodySize": 40, "redirectURL": ""},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 1}}}


def _archive(path: Path, *, page: str = "", extra_line: bytes = b"") -> Path:
    trace = [{"version": 8, "type": "context-options", "title": "A-1"},
             {"type": "before", "callId": "c1", "class": "Frame", "method": "fill",
              "params": {"selector": "#ref", "value": USER}},
             {"type": "frame-snapshot", "snapshot": {"callId": "c1", "html": ["P", {}, f"Connecté : {USER}"]}},
             {"type": "before", "callId": "c2", "class": "BrowserContext", "method": "addCookies",
              "params": {"cookies": [{"name": "sessionid", "value": COOKIE, "url": "http://127.0.0.1"}]}}]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trace.trace", "\n".join(json.dumps(line) for line in trace).encode() + extra_line + b"\n")
        archive.writestr("trace.network", json.dumps(_network()) + "\n")
        archive.writestr("resources/page.html", page or f"<p>Connecté : {USER}</p><script>t='{TOKEN}'</script>")
        archive.writestr("screencast/page@1-1.jpeg", b"\xff\xd8\xff" + random.token_bytes(64))
    return path


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_kept_trace_has_no_cookie_nor_credential_header_and_stays_valid(tmp_path: Path) -> None:
    """Cookies and credential headers are removed, their values masked elsewhere; the rest is kept as it was."""
    path = _archive(tmp_path / "trace.zip")
    assert clean_trace(path) is None
    files = _read(path)
    assert sorted(files) == ["resources/page.html", "screencast/page@1-1.jpeg", "trace.network", "trace.trace"]
    text = b"".join(data for name, data in files.items() if not name.endswith(".jpeg"))
    assert COOKIE.encode() not in text and TOKEN.encode() not in text
    assert USER.encode() in files["trace.trace"] and USER.encode() in files["resources/page.html"]
    entry = json.loads(files["trace.network"])["snapshot"]
    assert entry["request"]["cookies"] == [] and entry["response"]["cookies"] == []
    assert entry["request"]["headers"] == [{"name": "Accept", "value": "text/html"}]
    assert entry["response"]["headers"] == [{"name": "Content-Type", "value": "text/html"}]
    assert entry["response"]["content"]["_sha1"] == "page.html" and entry["time"] == 12.5
    lines = [json.loads(line) for line in files["trace.trace"].splitlines() if line.strip()]
    assert [line["type"] for line in lines] == ["context-options", "before", "frame-snapshot", "before"]
    assert lines[3]["params"]["cookies"] == []
    assert not list(tmp_path.glob("*.tmp"))


def test_a_password_anywhere_but_images_voids_the_trace_naming_the_secret(tmp_path: Path) -> None:
    """A password value in a page resource deletes the whole archive; the verdict names the secret."""
    password = "mdp-" + random.token_hex(8)
    Secret(password, "portail.password")
    path = _archive(tmp_path / "trace.zip", page=f"<p>Votre mot de passe : {password}</p>")
    assert clean_trace(path) == Verdict(Dropped.SECRET, "portail.password")
    assert list(tmp_path.iterdir()) == []
    rendered = "modele-" + random.token_hex(8)
    Secret(rendered, "template")  # a text rendered from a secret: no declared name to give
    path = _archive(tmp_path / "trace.zip", page=f"<p>{rendered}</p>")
    assert clean_trace(path) == Verdict(Dropped.SECRET, None)


def test_a_trace_that_cannot_be_cleaned_is_not_kept(tmp_path: Path) -> None:
    """A JSON line that does not parse, or no archive at all: deleted, never kept as it was."""
    broken = _archive(tmp_path / "broken.zip", extra_line=b'\n{"type": "before", "params": {"value": ')
    assert clean_trace(broken) == Verdict(Dropped.UNCLEAN)
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"PK\x03\x04 truncated")
    assert clean_trace(not_zip) == Verdict(Dropped.UNCLEAN)
    assert list(tmp_path.iterdir()) == []
