"""The tray in the Linux desktop: its freedesktop `.desktop` entry, its icon and its autostart entry.

Files written (XDG base directories, read through platformdirs):
`$XDG_DATA_HOME/applications/robocore-tray.desktop` (the applications menu),
`$XDG_DATA_HOME/icons/hicolor/{scalable,64x64}/apps/robocore.{svg,png}` (the icon) and
`$XDG_CONFIG_HOME/autostart/robocore-tray.desktop` (started at sign-in). Windows and macOS have none of
these: the functions refuse there with `DesktopUnsupported` (a Startup-folder shortcut would be the
Windows counterpart; it is not written yet).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from robocore.i18n import LANGUAGES, lazy_gettext, render

ENTRY = "robocore-tray.desktop"
ICON = "robocore"
ICONS_DIR = Path(__file__).parent / "icons"
# freedesktop Desktop Entry 1.4 (Debian 12 validates up to 1.4), "The Exec key": an argument holding one of
# these is quoted
_RESERVED = frozenset(" \"'\\><~|&;$*?#()`")  # tab and newline: refused as control characters
_IN_QUOTES = frozenset('"`$\\')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
COMMENT = lazy_gettext("Launch your Robocore robots and follow their runs")
GENERIC_NAME = lazy_gettext("Robot launcher")


class DesktopUnsupported(RuntimeError):
    """Desktop entries are a Linux (freedesktop) feature."""


class BadArgument(ValueError):
    """An argument of the command that a desktop entry cannot hold."""


def supported() -> bool:
    """True where freedesktop entries exist (Linux and the BSDs), False on Windows and macOS."""
    return sys.platform not in ("win32", "cygwin", "darwin")


def _require() -> None:
    if not supported():
        raise DesktopUnsupported(render(lazy_gettext(
            "menu and autostart entries are written on Linux only (this system: {platform})",
            platform=sys.platform)))


# ---- the command ------------------------------------------------------------------------------------
def launch_command(server: str) -> list[str]:
    """The command that starts the tray on `server`: the packaged app itself, else `robo tray`."""
    if getattr(sys, "frozen", False):  # the PyInstaller app: its own executable takes the tray's options
        return [str(Path(sys.executable).resolve()), "--server", server]
    robo = Path(sys.executable).with_name("robo")  # the virtual environment's script, beside its python
    found = str(robo) if robo.is_file() else shutil.which("robo")
    if found:
        return [str(Path(found).absolute()), "tray", "--server", server]
    return [str(Path(sys.executable).absolute()), "-m", "robocore.tray", "--server", server]


def quote_argument(arg: str) -> str:
    """One argument of an Exec line: double-quoted when it holds a reserved character, `%` doubled."""
    if _CONTROL.search(arg):  # a newline or a tab would survive neither the file nor the quoting rules
        raise BadArgument(render(lazy_gettext("argument '{value}' holds a control character",
                                              value=arg.encode("unicode_escape").decode())))
    if arg and not (_RESERVED & set(arg)):
        return arg.replace("%", "%%")
    inner = "".join("\\" + c if c in _IN_QUOTES else c for c in arg)
    return '"' + inner.replace("%", "%%") + '"'


def exec_line(argv: Sequence[str]) -> str:
    """The Exec value for `argv` (before the string escapes of the file, which `entry_text` adds)."""
    if not argv or "=" in argv[0]:
        raise BadArgument(render(lazy_gettext("program '{value}' cannot start a desktop entry",
                                              value=argv[0] if argv else "")))
    return " ".join(quote_argument(a) for a in argv)


def _value(text: str) -> str:
    """A string value of the file: backslash, newline, tab and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def entry_text(argv: Sequence[str], autostart: bool = False) -> str:
    """The `[Desktop Entry]` group starting `argv`, its texts in English and French."""
    lines = ["[Desktop Entry]", "Type=Application", "Version=1.4", "Name=Robocore"]
    lines += [f"Name[{lang}]=Robocore" for lang in LANGUAGES]
    lines.append(f"GenericName={_value(render(GENERIC_NAME, 'en'))}")
    lines += [f"GenericName[{lang}]={_value(render(GENERIC_NAME, lang))}" for lang in LANGUAGES]
    lines.append(f"Comment={_value(render(COMMENT, 'en'))}")
    lines += [f"Comment[{lang}]={_value(render(COMMENT, lang))}" for lang in LANGUAGES]
    lines += [f"TryExec={_value(argv[0])}", f"Exec={_value(exec_line(argv))}", f"Icon={ICON}",
              "Terminal=false", "Categories=Office;Utility;", "StartupNotify=false"]
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


# ---- the files --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Places:
    """Where the entries go: `data` is $XDG_DATA_HOME, `config` is $XDG_CONFIG_HOME."""

    data: Path
    config: Path

    @classmethod
    def of_user(cls) -> Places:
        """The user's XDG folders (platformdirs honours XDG_DATA_HOME and XDG_CONFIG_HOME)."""
        return cls(platformdirs.user_data_path(), platformdirs.user_config_path())

    @property
    def menu_entry(self) -> Path:
        return self.data / "applications" / ENTRY

    @property
    def autostart_entry(self) -> Path:
        return self.config / "autostart" / ENTRY

    @property
    def icons(self) -> list[tuple[Path, Path]]:
        """(shipped file, installed file) for each icon size."""
        hicolor = self.data / "icons" / "hicolor"
        return [(ICONS_DIR / f"{ICON}.svg", hicolor / "scalable" / "apps" / f"{ICON}.svg"),
                (ICONS_DIR / f"{ICON}.png", hicolor / "64x64" / "apps" / f"{ICON}.png")]


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so that a menu never reads half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def install_menu_entry(server: str, places: Places | None = None) -> list[Path]:
    """Put Robocore in the applications menu (entry and icon); returns the files written."""
    _require()
    places = places or Places.of_user()
    text = entry_text(launch_command(server))
    written = []
    for shipped, installed in places.icons:
        installed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped, installed)
        written.append(installed)
    _write(places.menu_entry, text)
    return [places.menu_entry, *written]


def remove_menu_entry(places: Places | None = None) -> list[Path]:
    """Take Robocore out of the applications menu; returns the files removed."""
    _require()
    places = places or Places.of_user()
    targets = [places.menu_entry, *(installed for _, installed in places.icons)]
    removed = [path for path in targets if path.is_file()]
    for path in removed:
        path.unlink()
    return removed


def set_autostart(on: bool, server: str | None = None, places: Places | None = None) -> Path:
    """Start the tray at sign-in (`on`, which needs `server`) or no longer; returns the entry's path."""
    _require()
    places = places or Places.of_user()
    path = places.autostart_entry
    if on:
        if not server:
            raise BadArgument(render(lazy_gettext("--autostart on needs --server URL")))
        _write(path, entry_text(launch_command(server), autostart=True))
    else:
        path.unlink(missing_ok=True)
    return path


__all__ = ["BadArgument", "DesktopUnsupported", "Places", "entry_text", "exec_line", "install_menu_entry",
           "launch_command", "remove_menu_entry", "set_autostart", "supported"]
