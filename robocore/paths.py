"""The path policy: every file an action reads or writes lies inside a folder the run may use.

A path given by a robot (a step parameter, often rendered from an input) is resolved — relative
to the robot's folder, symbolic links followed — and must then lie inside the robot's folder,
the run's folder, a folder of `ROBOCORE_ALLOWED_DIRS`, or be one of the files the run was given
as `file` inputs (a CLI user's own workbook: the caller chose it). Anything else is refused with
a BusinessError naming the step and the path: the data is wrong, retrying will not help.

`~` is not expanded: on a server it would be the service account's home, and a robot that
works on one machine and not on another is worse than a clear refusal. NUL bytes and names too
long for the file system are refused before any system call sees them.

Writing re-checks the target after its parent folder is created, so a folder swapped for a
symbolic link in between is caught; a write through a link that points outside is refused like
any outside path. Between that check and the library's `open` a window remains: closing it would
need every library (openpyxl, Playwright) to open files through one directory descriptor.

`name_in` is the API's rule for a `file` input given as a name: a relative name, without `..`,
inside one of the allowed server folders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from robocore.errors import BusinessError
from robocore.i18n import Message, render
from robocore.i18n import lazy_gettext as _l

NAME_MAX_BYTES = 255
"""Longest file or folder name (one path part), in UTF-8 bytes, as ext4, XFS and NTFS allow."""
PATH_MAX_BYTES = 4096
"""Longest whole path, in UTF-8 bytes (Linux PATH_MAX)."""
_SHOWN_CHARS = 300


class PathRefused(BusinessError):
    """A path an action was given lies outside every folder the run may use, or is malformed."""

    def __init__(self, message: Message, *, path: str, step: str | None) -> None:
        super().__init__(message)
        self.message, self.path, self.step = message, path, step

    def __str__(self) -> str:
        return render(self.message)


def shown(path: str | PurePath) -> str:
    """A path as an error message shows it: control characters visible, at most 300 characters."""
    text = repr(str(path))[1:-1]
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def malformed(path: str | PurePath) -> Message | None:
    """Why a path cannot name a file (a lazy message), or None: NUL byte, too long, `~`, empty."""
    text = str(path)
    if not text.strip():
        return _l("empty path")
    if "\x00" in text:
        return _l("NUL byte in the path")
    if len(text.encode("utf-8", "surrogatepass")) > PATH_MAX_BYTES:
        return _l("path longer than {limit} bytes", limit=PATH_MAX_BYTES)
    for part in PurePath(text).parts:
        if len(part.encode("utf-8", "surrogatepass")) > NAME_MAX_BYTES:
            return _l("name longer than {limit} bytes: “{start}…”", limit=NAME_MAX_BYTES, start=shown(part[:40]))
    if text.startswith("~"):
        return _l("“~” is not expanded, write the full path")
    return None


def _resolved(path: Path) -> Path | None:
    """The path with every symbolic link followed, or None when it cannot be (a link loop)."""
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError, ValueError):
        return None


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


@dataclass(frozen=True)
class PathPolicy:
    """The folders (and single files) one run's actions may read and write.

    Attributes:
        base: the folder relative paths are resolved against (the robot's folder).
        roots: resolved folders inside which any path may be used.
        files: resolved single files that may be used wherever they are (the run's file inputs).
    """

    base: Path
    roots: tuple[Path, ...]
    files: frozenset[Path] = frozenset()

    @classmethod
    def of(cls, robot_dir: Path, run_dir: Path, allowed_dirs: Sequence[Path] = (),
           files: Sequence[Path] = ()) -> PathPolicy:
        """The policy of a run: its robot's and its own folder, the allowed folders, its input files."""
        folders = [robot_dir, run_dir, *(Path(d).expanduser() for d in allowed_dirs)]
        roots = tuple(r for r in (_resolved(Path(f).absolute()) for f in folders) if r is not None)
        found = frozenset(r for r in (_resolved(Path(f).absolute()) for f in files) if r is not None)
        return cls(base=Path(robot_dir).absolute(), roots=roots, files=found)

    def check(self, path: str | PurePath, *, write: bool = False, step: str | None = None) -> Path:
        """The resolved path, or PathRefused naming the step and the path.

        Args:
            write: the caller will write there: the parent folder is created, then the target
                resolved and checked again.
            step: the step that asked (the error names it).
        """
        problem = malformed(path)
        if problem is not None:
            raise self._refused(path, step, problem)
        given = Path(path)
        candidate = given if given.is_absolute() else self.base / given
        target = self._allowed(candidate, path, step)
        if write:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = _l("cannot create its folder ({reason})", reason=exc.strerror)
                raise self._refused(path, step, why) from None
            target = self._allowed(candidate, path, step)  # a folder swapped for a link meanwhile
        return target

    def _allowed(self, candidate: Path, path: str | PurePath, step: str | None) -> Path:
        target = _resolved(candidate)
        if target is None:
            raise self._refused(path, step, _l("symbolic link loop or unreadable path"))
        if _within(target, self.roots) or target in self.files:
            return target
        arrow = f" (→ {shown(target)})" if target != candidate.absolute() else ""
        raise self._refused(path, step, _l("outside the robot's folder, the run's folder and the allowed folders "
                                           "(ROBOCORE_ALLOWED_DIRS){arrow}", arrow=arrow))

    @staticmethod
    def _refused(path: str | PurePath, step: str | None, why: Message) -> PathRefused:
        text = shown(path)
        refused = _l("path “{path}” refused, {why}", path=text, why=why)
        return PathRefused(_l("step “{step}”: {refused}", step=step, refused=refused) if step else refused,
                           path=text, step=step)


class NameRefused(ValueError):
    """A file name given through the API is not a plain name inside an allowed server folder."""

    def __init__(self, message: Message, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message, self.missing = message, missing

    def __str__(self) -> str:
        return render(self.message)

    @property
    def french(self) -> str:
        return render(self.message, "fr")

    @property
    def english(self) -> str:
        return render(self.message, "en")


def name_in(name: str, folders: Sequence[Path]) -> Path:
    """The file a relative `name` designates inside one of `folders` (symbolic links followed).

    The name may hold sub-folders (`2026/mars.xlsx`) but no `..`, no absolute path, and must
    lead to an existing file that stays inside an allowed folder once resolved; the first
    folder holding it wins.

    Raises:
        NameRefused: a lazy message (any language), naming the value.
    """
    text = shown(name)
    problem = malformed(name)
    if problem is not None:
        raise NameRefused(_l("file “{name}” refused: {why}", name=text, why=problem))
    pure = PurePath(name)
    if pure.is_absolute() or pure.drive or ".." in pure.parts or "\\" in name:
        raise NameRefused(_l("file “{name}” refused: give a name relative to an allowed server folder, without "
                             "“..” or an absolute path", name=text))
    roots = [r for r in (_resolved(Path(f).expanduser().absolute()) for f in folders) if r is not None]
    for root in roots:
        target = _resolved(root / pure)
        if target is None or not target.exists():
            continue
        if not _within(target, roots):
            raise NameRefused(_l("file “{name}” refused: its link leads outside the allowed folders", name=text))
        if not target.is_file():
            raise NameRefused(_l("“{name}” is not a file", name=text), missing=True)
        return target
    raise NameRefused(_l("file “{name}” not found in the allowed server folders", name=text), missing=True)


__all__ = ["NAME_MAX_BYTES", "PATH_MAX_BYTES", "NameRefused", "PathPolicy", "PathRefused", "malformed",
           "name_in", "shown"]
