"""files.* actions stay inside the robot's folder, the run's folder and the allowed folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from robocore import BusinessError, Context, RunSettings
from robocore.actions import files


@pytest.fixture()
def ctx(tmp_path: Path) -> Context:
    """A context whose robot and run folders sit side by side, with a secret file next to them."""
    robot_dir, run_dir = tmp_path / "robot", tmp_path / "home" / "runs" / "r1"
    robot_dir.mkdir()
    run_dir.mkdir(parents=True)
    (robot_dir / "entree.txt").write_text("bonjour\n", encoding="utf-8")
    (tmp_path / "dehors.txt").write_text("confidentiel\n", encoding="utf-8")
    return Context(run_id="r1", robot="fichiers", robot_dir=robot_dir, run_dir=run_dir)


def _outside_paths(ctx: Context) -> list[str]:
    outside = ctx.robot_dir.parent / "dehors.txt"
    return ["../dehors.txt", "sous/../../dehors.txt", str(outside), "/etc/passwd", "~/dehors.txt",
            str(ctx.run_dir / ".." / ".." / ".." / "dehors.txt"), "entree.txt/../../dehors.txt", "a\x00b"]


CALLS: dict[str, Callable[[Context, str], Any]] = {
    "read_text": lambda c, p: files.read_text(c, Path(p)),
    "write_text": lambda c, p: files.write_text(c, Path(p), "pirate"),
    "list": lambda c, p: files.list_files(c, Path(p)),
    "copy_from": lambda c, p: files.copy(c, Path(p), Path("copie.txt")),
    "copy_to": lambda c, p: files.copy(c, Path("entree.txt"), Path(p), overwrite=True),
    "move_from": lambda c, p: files.move(c, Path(p), Path("deplace.txt")),
    "move_to": lambda c, p: files.move(c, Path("entree.txt"), Path(p), overwrite=True),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_escape_is_refused_with_business_error(ctx: Context, call: str) -> None:
    """`../` escapes, absolute paths, `~` and NUL bytes outside the allowed folders raise BusinessError."""
    outside = ctx.robot_dir.parent / "dehors.txt"
    for path in _outside_paths(ctx):
        with pytest.raises(BusinessError):
            CALLS[call](ctx, path)
    assert outside.read_text(encoding="utf-8") == "confidentiel\n"
    assert (ctx.robot_dir / "entree.txt").exists()
    assert not (ctx.robot_dir / "copie.txt").exists() and not (ctx.robot_dir / "deplace.txt").exists()


def test_symlink_leading_out_is_refused(ctx: Context) -> None:
    """A symlink inside the robot folder that points outside is refused, and not listed."""
    (ctx.robot_dir / "lien.txt").symlink_to(ctx.robot_dir.parent / "dehors.txt")
    (ctx.robot_dir / "lien_dossier").symlink_to(ctx.robot_dir.parent)
    with pytest.raises(BusinessError):
        files.read_text(ctx, Path("lien.txt"))
    with pytest.raises(BusinessError):
        files.write_text(ctx, Path("lien_dossier/nouveau.txt"), "x")
    listed = files.list_files(ctx, Path("."), recursive=True)["files"]
    assert [Path(p).name for p in listed] == ["entree.txt"]


def test_work_inside_robot_and_run_folders(ctx: Context) -> None:
    """Reading, writing, listing, copying and moving inside the robot and run folders work."""
    assert files.read_text(ctx, Path("entree.txt"))["lines"] == ["bonjour"]
    out = ctx.run_dir / "sortie" / "resultat.txt"
    assert files.write_text(ctx, out, "ligne 1\n")["path"] == str(out.resolve())
    files.write_text(ctx, out, "ligne 2\n", append=True)
    assert out.read_text(encoding="utf-8") == "ligne 1\nligne 2\n"
    copied = files.copy(ctx, Path("entree.txt"), ctx.run_dir / "sortie")
    assert Path(copied["path"]).read_text(encoding="utf-8") == "bonjour\n"
    moved = files.move(ctx, ctx.run_dir / "sortie" / "entree.txt", Path("archive/entree.txt"))
    assert Path(moved["path"]) == (ctx.robot_dir / "archive" / "entree.txt").resolve()
    listed = files.list_files(ctx, ctx.run_dir, pattern="*.txt", recursive=True)
    assert listed["count"] == 1 and listed["files"][0].endswith("resultat.txt")
    assert files.read_text(ctx, Path("sous/../absent.txt"), missing_ok=True)["exists"] is False


def test_allowed_dirs_extend_the_confinement(tmp_path: Path, ctx: Context) -> None:
    """A folder in settings.allowed_dirs may be used; its siblings may not."""
    partage = tmp_path / "partage"
    partage.mkdir()
    ctx.settings = RunSettings(allowed_dirs=[partage])
    files.write_text(ctx, partage / "depot.txt", "ok")
    assert files.read_text(ctx, partage / "depot.txt")["text"] == "ok"
    with pytest.raises(BusinessError):
        files.read_text(ctx, partage / ".." / "dehors.txt")


def test_existing_destination_needs_overwrite(ctx: Context) -> None:
    """Copying onto an existing file is a BusinessError unless overwrite is true."""
    files.write_text(ctx, Path("cible.txt"), "ancien")
    with pytest.raises(BusinessError):
        files.copy(ctx, Path("entree.txt"), Path("cible.txt"))
    files.copy(ctx, Path("entree.txt"), Path("cible.txt"), overwrite=True)
    assert (ctx.robot_dir / "cible.txt").read_text(encoding="utf-8") == "bonjour\n"


def test_missing_source_is_business_error(ctx: Context) -> None:
    """A missing source file or folder is a BusinessError (the data is wrong), not a crash."""
    with pytest.raises(BusinessError):
        files.copy(ctx, Path("absent.txt"), Path("x.txt"))
    with pytest.raises(BusinessError):
        files.list_files(ctx, Path("absent"))
    with pytest.raises(BusinessError):
        files.read_text(ctx, Path("absent.txt"))
