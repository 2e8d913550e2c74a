"""Copy the front-end files the pages need from pinned npm packages into the Python package.

Run by hand when upgrading a front-end package (never by set-up: the copied files are
committed, so that closed networks get them inside the wheel, never from a CDN):

    1. edit the exact version in web/package.json;
    2. (cd web && npm install --package-lock-only --ignore-scripts)   # rewrites package-lock.json
    3. .venv/bin/python scripts/vendor_static.py
    4. .venv/bin/python -m pytest -q tests/unit/test_static_vendor.py tests/integration/test_web_layout.py

Step 3 runs `npm ci --ignore-scripts` in a temporary copy of web/ (npm checks each tarball
against the lock's `integrity`), then copies ONLY the files listed in PACKAGES, with each
package's licence, into `<target>/<package>/<version>/…`, and writes `<target>/MANIFEST.json`:
package, version, the lock's integrity, licence name and the SHA-256 of every copied file.
Served files go to robocore/web/static/vendor/; axe-core, used by the tests only, to
tests/vendor/. Earlier copies are removed first, so an upgrade leaves no stale version.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
SERVED = ROOT / "robocore" / "web" / "static" / "vendor"
TESTS = ROOT / "tests" / "vendor"
NPM_TIMEOUT = 600
CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)([^'\")?#]+)")
# Every @font-face names woff2 before woff: browsers fetch the first format they support (woff2 for
# all of ours), so the woff fallbacks are not copied.
SKIPPED_FORMATS = (".woff",)


@dataclass(frozen=True)
class Package:
    """One npm package: the files copied (relative to the package folder) and where they go."""

    name: str
    licence_file: str
    files: tuple[str, ...]
    target: Path


PACKAGES = (
    # dsfr.min.css holds the core, every component and the utility classes the layout uses; the
    # fonts and icons it names are added by `referenced` (woff2 only). The module build only: every
    # browser we support runs ES modules. The favicons for the page head.
    Package("@gouvfr/dsfr", "LICENSE.md", (
        "dist/dsfr.min.css", "dist/dsfr.module.min.js",
        "dist/favicon/favicon.svg", "dist/favicon/favicon.ico", "dist/favicon/apple-touch-icon.png",
    ), SERVED),
    Package("axe-core", "LICENSE", ("axe.min.js",), TESTS),
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def referenced(source: Path, css_files: tuple[str, ...]) -> list[str]:
    """The files (fonts, icons) the package's copied stylesheets point at, relative to the package."""
    found: set[str] = set()
    for css in css_files:
        if css.endswith(".css"):
            base = Path(css).parent
            text = (source / css).read_text(encoding="utf-8")
            found.update((base / target).as_posix() for target in CSS_URL.findall(text)
                         if not target.endswith(SKIPPED_FORMATS))
    missing = [name for name in found if not (source / name).is_file()]
    if missing:
        raise SystemExit(f"{source.name}: stylesheet names missing files {sorted(missing)[:5]}")
    return sorted(found)


def install(workdir: Path) -> Path:
    """`npm ci` of web/'s lock in a temporary copy; returns its node_modules."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(WEB / name, workdir / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=workdir, check=True,
                   timeout=NPM_TIMEOUT)
    return workdir / "node_modules"


def copy_package(package: Package, modules: Path, lock: dict[str, dict[str, str]]) -> dict[str, object]:
    """Copy one package's files and licence; its manifest entry."""
    entry = lock[f"node_modules/{package.name}"]
    source = modules / package.name
    version = json.loads((source / "package.json").read_text(encoding="utf-8"))["version"]
    if version != entry["version"]:
        raise SystemExit(f"{package.name}: installed {version}, lock says {entry['version']}")
    destination = package.target / package.name / version
    files: dict[str, str] = {}
    for relative in (*package.files, *referenced(source, package.files), package.licence_file):
        copied = destination / relative
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, copied)
        files[copied.relative_to(package.target).as_posix()] = sha256(copied)
    return {"package": package.name, "version": version, "integrity": entry["integrity"],
            "license": entry["license"], "license_file": f"{package.name}/{version}/{package.licence_file}",
            "files": dict(sorted(files.items()))}


def write_manifests(entries: list[tuple[Package, dict[str, object]]]) -> None:
    """One MANIFEST.json per target folder, listing that folder's packages."""
    for target in sorted({package.target for package, _ in entries}):
        listed = [entry for package, entry in entries if package.target == target]
        manifest = {"generated_by": "scripts/vendor_static.py", "lock": "web/package-lock.json", "packages": listed}
        (target / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")


def main() -> None:
    """Install, copy, write the manifests, print the total size."""
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for target in {package.target for package in PACKAGES}:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="robocore-vendor-") as work:
        modules = install(Path(work))
        entries = [(package, copy_package(package, modules, lock)) for package in PACKAGES]
    write_manifests(entries)
    for target in sorted({package.target for package in PACKAGES}):
        size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
        print(f"{target.relative_to(ROOT)}: {size / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
