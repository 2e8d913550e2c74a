"""Built-in file actions; every path goes through the run's path policy (`ctx.path`, robocore.paths)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, TypedDict

from robocore import BusinessError, Context, action
from robocore.i18n import gettext as _


def _inside(ctx: Context, path: Path) -> bool:
    """True when a listed file stays inside the allowed folders (a symlink may lead out)."""
    try:
        ctx.path(path)
    except BusinessError:
        return False
    return True


class FileList(TypedDict):
    """The files found by files.list."""

    files: Annotated[list[str], "full paths of the files found, sorted by name (folders are not listed)"]
    count: Annotated[int, "how many files were found"]


@action("files.list")
def list_files(ctx: Context, folder: Path, pattern: str = "*", recursive: bool = False) -> FileList:
    """List files of a folder matching a glob pattern, sorted by name.

    Args:
        folder: the folder to list (inside the robot's, the run's or an allowed folder).
        pattern: a glob pattern such as `*.xlsx` or `releve-2026-*.csv`.
        recursive: also list the subfolders' files.

    Example:
        - id: releves
          use: files.list
          with: {folder: entree, pattern: "*.xlsx"}
    """
    base = ctx.path(folder)
    if not base.is_dir():
        raise BusinessError(_("folder not found: {path}", path=base))
    found = base.rglob(pattern) if recursive else base.glob(pattern)
    files = sorted(str(p) for p in found if p.is_file() and _inside(ctx, p))
    return {"files": files, "count": len(files)}


class FileMoved(TypedDict):
    """Where files.copy or files.move put the file."""

    path: Annotated[str, "full path of the file at its destination"]


def _transfer(ctx: Context, source: Path, destination: Path, overwrite: bool, move: bool) -> FileMoved:
    src, dest = ctx.path(source), ctx.path(destination)
    if not src.is_file():
        raise BusinessError(_("file not found: {path}", path=src))
    dest = ctx.path(dest / src.name if dest.is_dir() else dest, write=True)
    if dest.exists() and not overwrite:
        raise BusinessError(_("the file already exists: {path} (overwrite: true to replace it)", path=dest))
    (shutil.move if move else shutil.copy2)(src, dest)
    return {"path": str(dest)}


@action("files.copy")
def copy(ctx: Context, source: Path, destination: Path, overwrite: bool = False) -> FileMoved:
    """Copy a file (into a folder or to a new name).

    Args:
        source: the file to copy.
        destination: a folder (the file keeps its name) or a new file name.
        overwrite: replace a file already there (else a business error).

    Example:
        - use: files.copy
          with: {source: "{{ steps.releves.files[0] }}", destination: archives}
    """
    return _transfer(ctx, source, destination, overwrite, move=False)


@action("files.move")
def move(ctx: Context, source: Path, destination: Path, overwrite: bool = False) -> FileMoved:
    """Move a file (into a folder or to a new name).

    Args:
        source: the file to move.
        destination: a folder (the file keeps its name) or a new file name.
        overwrite: replace a file already there (else a business error).

    Example:
        - use: files.move
          with: {source: entree/releve.xlsx, destination: traites/}
    """
    return _transfer(ctx, source, destination, overwrite, move=True)


class TextRead(TypedDict):
    """A text file's content, as files.read_text gives it."""

    text: Annotated[str, "the whole text (empty when the file is missing and missing_ok is true)"]
    lines: Annotated[list[str], "the text cut into lines, without their line ends"]
    exists: Annotated[bool, "false when the file was missing (only with missing_ok)"]


@action("files.read_text")
def read_text(ctx: Context, path: Path, missing_ok: bool = False) -> TextRead:
    """Read a UTF-8 text file; with missing_ok an absent file reads as empty.

    Args:
        path: the file to read (inside the robot's, the run's or an allowed folder).
        missing_ok: an absent file gives an empty text (`exists` false) instead of an error.

    Example:
        - id: modele
          use: files.read_text
          with: {path: modeles/courrier.txt}
    """
    p = ctx.path(path)
    if not p.exists() and missing_ok:
        return {"text": "", "lines": [], "exists": False}
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BusinessError(_("unreadable text file: {path} ({error})", path=p, error=exc)) from None
    return {"text": text, "lines": text.splitlines(), "exists": True}


class TextWritten(TypedDict):
    """The file files.write_text wrote."""

    path: Annotated[str, "full path of the file written"]


@action("files.write_text")
def write_text(ctx: Context, path: Path, text: str, append: bool = False) -> TextWritten:
    """Write (or append) UTF-8 text to a file, flushed to disk before the step ends.

    Args:
        path: the file to write (its folder must exist).
        text: the text to write.
        append: add the text at the end of the file instead of replacing it.

    Example:
        - use: files.write_text
          with: {path: "sortie/{{ item.numero }}.txt", text: "{{ steps.modele.text }}"}
    """
    p = ctx.path(path, write=True)
    with p.open("a" if append else "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return {"path": str(p)}
