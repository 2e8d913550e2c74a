"""Installed-looking distributions for extension tests: a dist-info with entry points, and its modules."""

from __future__ import annotations

from pathlib import Path


def write_distribution(site: Path, dist: str, entry_points: dict[str, dict[str, str]],
                       modules: dict[str, str]) -> Path:
    """Write `dist` into the folder `site` (to put on sys.path or PYTHONPATH) as pip would install it.

    Args:
        entry_points: group → {entry-point name: "module" or "module:attribute"}.
        modules: module name → its source.
    """
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    sections = (f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in eps.items())
                for group, eps in entry_points.items())
    (info / "entry_points.txt").write_text("\n".join(sections), encoding="utf-8")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source, encoding="utf-8")
    return site
