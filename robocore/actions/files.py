"""Built-in file actions; every path goes through the run's path policy (`ctx.path`, robocore.paths)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from robocore import BusinessError, Context, action
from robocore.i18n import gettext as _


def _inside(ctx: Context, path: Path) -> bool:
    """True when a listed file stays inside the allowed folders (a symlink may lead out)."""
    try:
        ctx.path(path)
    except BusinessError:
        return False
    return True


@action("files.list")
def list_files(ctx: Context, folder: Path, pattern: str = "*", recursive: bool = False) -> dict[str, object]:
    """List files of a folder matching a glob pattern, sorted by name."""
    base = ctx.path(folder)
    if not base.is_dir():
        raise BusinessError(_("folder not found: {path}", path=base))
    found = base.rglob(pattern) if recursive else base.glob(pattern)
    files = sorted(str(p) for p in found if p.is_file() and _inside(ctx, p))
    return {"files": files, "count": len(files)}


def _transfer(ctx: Context, source: Path, destination: Path, overwrite: bool, move: bool) -> dict[str, str]:
    src, dest = ctx.path(source), ctx.path(destination)
    if not src.is_file():
        raise BusinessError(_("file not found: {path}", path=src))
    dest = ctx.path(dest / src.name if dest.is_dir() else dest, write=True)
    if dest.exists() and not overwrite:
        raise BusinessError(_("the file already exists: {path} (overwrite: true to replace it)", path=dest))
    (shutil.move if move else shutil.copy2)(src, dest)
    return {"path": str(dest)}


@action("files.copy")
def copy(ctx: Context, source: Path, destination: Path, overwrite: bool = False) -> dict[str, str]:
    """Copy a file (into a folder or to a new name)."""
    return _transfer(ctx, source, destination, overwrite, move=False)


@action("files.move")
def move(ctx: Context, source: Path, destination: Path, overwrite: bool = False) -> dict[str, str]:
    """Move a file (into a folder or to a new name)."""
    return _transfer(ctx, source, destination, overwrite, move=True)


@action("files.read_text")
def read_text(ctx: Context, path: Path, missing_ok: bool = False) -> dict[str, object]:
    """Read a UTF-8 text file; with missing_ok an absent file reads as empty."""
    p = ctx.path(path)
    if not p.exists() and missing_ok:
        return {"text": "", "lines": [], "exists": False}
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BusinessError(_("unreadable text file: {path} ({error})", path=p, error=exc)) from None
    return {"text": text, "lines": text.splitlines(), "exists": True}


@action("files.write_text")
def write_text(ctx: Context, path: Path, text: str, append: bool = False) -> dict[str, str]:
    """Write (or append) UTF-8 text to a file, flushed to disk before the step ends."""
    p = ctx.path(path, write=True)
    with p.open("a" if append else "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return {"path": str(p)}
