"""The package's static files under /static: our CSS, and the vendored npm files listed in vendor/MANIFEST.json.

Vendored files live at `vendor/<package>/<version>/…`: a new version is a new address, so
they are cached for a year as immutable. Our own files (`neutral.css`, `robocore.css`) keep
one address across releases: browsers revalidate them (`no-cache`, answered 304 by ETag).
Nothing comes from a CDN: administrations run on closed networks.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "MANIFEST.json"
PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class PackageStatic(StaticFiles):
    """StaticFiles whose answers say how long they may be cached (the security middleware keeps it)."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = Path(full_path).resolve().is_relative_to(VENDOR_DIR.resolve())
        response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        return response


def install_static(app: FastAPI) -> None:
    """Serve STATIC_DIR at /static (route name `static`)."""
    app.mount(PREFIX, PackageStatic(directory=STATIC_DIR), name="static")


def static_url(path: str) -> str:
    """The address of one of our own static files (`neutral.css` → `/static/neutral.css`)."""
    if not (STATIC_DIR / path).is_file():
        raise ValueError(f"fichier statique absent : {path!r} / missing static file: {path!r}")
    return f"{PREFIX}/{path}"


@cache
def vendored() -> dict[str, str]:
    """Package name → version, as MANIFEST.json lists them."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {entry["package"]: entry["version"] for entry in manifest["packages"]}


def vendor_url(package: str, path: str) -> str:
    """The versioned address of a vendored file (`@gouvfr/dsfr`, `dist/dsfr.min.css`).

    Raises:
        ValueError: the package is not vendored or the file was not copied (scripts/vendor_static.py).
    """
    version = vendored().get(package)
    if version is None or not (VENDOR_DIR / package / version / path).is_file():
        raise ValueError(f"fichier non fourni par scripts/vendor_static.py : {package} {path} / "
                         f"file not vendored by scripts/vendor_static.py: {package} {path}")
    return f"{PREFIX}/vendor/{package}/{version}/{path}"
