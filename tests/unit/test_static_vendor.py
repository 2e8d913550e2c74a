"""The vendored front-end files are exactly what scripts/vendor_static.py copied from the pinned npm lock."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from robocore.web import static

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "web" / "package-lock.json"
PACKAGE_JSON = ROOT / "web" / "package.json"
FOLDERS = {"served": static.VENDOR_DIR, "tests": ROOT / "tests" / "vendor"}


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    return data


def _lock() -> dict[str, Any]:
    packages: dict[str, Any] = json.loads(LOCK.read_text(encoding="utf-8"))["packages"]
    return packages


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_every_vendored_file_is_listed_with_its_sha256_and_nothing_else(folder: Path) -> None:
    """Each file under the vendor folder (but the manifest) is in MANIFEST.json with the SHA-256 of its bytes,
    and each listed file exists: a hand-edited, added or missing file fails."""
    listed = {name: digest for entry in _manifest(folder)["packages"] for name, digest in entry["files"].items()}
    present = {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
               for path in folder.rglob("*") if path.is_file() and path.name != "MANIFEST.json"}
    assert sorted(set(present) - set(listed)) == [], "fichiers non listés / unlisted files"
    assert sorted(set(listed) - set(present)) == [], "fichiers listés absents / listed files missing"
    assert {name for name in listed if listed[name] != present[name]} == set(), "empreinte différente / sha256 differs"


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_each_package_matches_the_lock_and_ships_its_licence(folder: Path) -> None:
    """Version, integrity and licence name equal web/package-lock.json's; the licence file is copied and
    listed; every file sits under `<package>/<version>/`."""
    lock = _lock()
    for entry in _manifest(folder)["packages"]:
        locked = lock[f"node_modules/{entry['package']}"]
        assert (entry["version"], entry["integrity"], entry["license"]) == (
            locked["version"], locked["integrity"], locked["license"]), entry["package"]
        prefix = f"{entry['package']}/{entry['version']}/"
        assert entry["license_file"].startswith(prefix) and entry["license_file"] in entry["files"]
        licence = (folder / entry["license_file"]).read_text(encoding="utf-8")
        assert len(licence) > 500, entry["license_file"]
        assert all(name.startswith(prefix) for name in entry["files"]), entry["package"]


def test_package_json_pins_exact_versions_that_the_lock_and_manifests_hold() -> None:
    """web/package.json names exact versions (no range), the lock resolves them, and every pinned package is
    vendored in one of the two folders (served, or tests-only)."""
    declared = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    pins = {**declared.get("dependencies", {}), **declared.get("devDependencies", {})}
    lock = _lock()
    vendored = {entry["package"]: entry["version"] for folder in FOLDERS.values()
                for entry in _manifest(folder)["packages"]}
    for name, version in pins.items():
        assert version[0].isdigit() and all(c.isdigit() or c == "." for c in version), (name, version)
        assert lock[f"node_modules/{name}"]["version"] == version == vendored[name], name


def test_tests_only_packages_are_not_served() -> None:
    """axe-core (a devDependency, tests only) is never copied into the package's static folder."""
    dev = json.loads(PACKAGE_JSON.read_text(encoding="utf-8")).get("devDependencies", {})
    served = {entry["package"] for entry in _manifest(static.VENDOR_DIR)["packages"]}
    assert dev and not set(dev) & served


def test_vendor_url_names_the_manifest_version_and_refuses_what_was_not_copied() -> None:
    """vendor_url builds `/static/vendor/<package>/<version>/<path>` from the manifest; a file not copied is
    refused naming it (a template typo fails at render, not as a 404 in the browser)."""
    version = static.vendored()["@gouvfr/dsfr"]
    assert static.vendor_url("@gouvfr/dsfr", "dist/dsfr.min.css") == \
        f"/static/vendor/@gouvfr/dsfr/{version}/dist/dsfr.min.css"
    with pytest.raises(ValueError, match="dist/dsfr.nomodule.min.js"):
        static.vendor_url("@gouvfr/dsfr", "dist/dsfr.nomodule.min.js")
    with pytest.raises(ValueError, match="chart.js"):
        static.vendor_url("chart.js", "dist/chart.umd.js")
    with pytest.raises(ValueError, match="absent.css"):
        static.static_url("absent.css")
