"""The tray's packaging: its Linux desktop entries (robocore.tray.desktop, `robo tray --install-desktop`,
`--autostart`) and the PyInstaller one-folder app (packaging/robocore-tray.spec), built, asked its version
and started on a virtual screen with a tray host (Xvfb + trayer, see shared/TESTING.md)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from robocore import __version__
from robocore.cli import cmd_tray
from robocore.tray import desktop
from tests.conftest import ROOT, need
from tests.integration.api_support import free_port

NASTY = ["<script>alert(1)</script>", "it's \"quoted\"", "=cmd|' /C calc'!A0", "50% $HOME `id` \\ back",
         "é à ç", "a;b&c>d"]
SPEC = ROOT / "packaging" / "robocore-tray.spec"
SCREENS = ROOT / "artifacts" / "screens"


# ---- reading an entry back, as the freedesktop specification says -------------------------------------------
def read_entry(text: str) -> dict[str, str]:
    """The keys of the `[Desktop Entry]` group, their string escapes undone."""
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    values: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, raw = line.partition("=")
        assert sep and key.strip() == key and key not in values, line
        values[key] = unescape_value(raw)
    return values


def unescape_value(raw: str) -> str:
    out, chars = [], iter(raw)
    for c in chars:
        out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[next(chars)] if c == "\\" else c)
    return "".join(out)


def split_exec(line: str) -> list[str]:
    """The arguments of an Exec value (quoting and `%%` undone), refusing what the specification forbids."""
    args: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] == " ":
            i += 1
            continue
        arg = []
        if line[i] == '"':
            i += 1
            while line[i] != '"':
                if line[i] == "\\":
                    assert line[i + 1] in '"`$\\', line
                    i += 1
                arg.append(line[i])
                i += 1
            i += 1
            assert i == n or line[i] == " ", line
        else:
            while i < n and line[i] != " ":
                assert line[i] not in desktop._RESERVED, line
                arg.append(line[i])
                i += 1
        args.append("".join(arg))
    text = [a.replace("%%", "\0") for a in args]
    assert not any("%" in a for a in text), line  # no field code: the tray takes no file nor URL
    return [a.replace("\0", "%") for a in text]


def validate(path: Path) -> None:
    """desktop-file-validate (Debian's desktop-file-utils) finds no error, when it is there."""
    tool = shutil.which("desktop-file-validate")
    need(tool is not None, "desktop-file-validate absent — apt-get install desktop-file-utils (scripts/setup.sh)")
    assert tool is not None
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout + done.stderr


# ---- the desktop entry ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("arg", NASTY + ["plain", "http://127.0.0.1:8000/a?b=c#d", ""])
def test_exec_argument_round_trip(arg: str) -> None:
    """Every argument, reserved characters, quotes, `%`, `$`, backticks and backslashes included, comes back
    unchanged from the Exec value once the file's escapes and the quoting are undone."""
    argv = ["/opt/robo core/robo", "tray", "--server", arg]
    entry = read_entry(desktop.entry_text(argv))
    assert split_exec(entry["Exec"]) == argv
    assert entry["TryExec"] == argv[0]


def test_exec_refuses_what_it_cannot_hold() -> None:
    """A newline in an argument or `=` in the program is refused with a message naming the value."""
    with pytest.raises(desktop.BadArgument, match=r"http://a\\nb"):
        desktop.exec_line(["/usr/bin/robo", "--server", "http://a\nb"])
    with pytest.raises(desktop.BadArgument, match="A=B"):
        desktop.exec_line(["A=B", "tray"])


def test_entry_keys() -> None:
    """The entry has the keys the brief asks for: names and comments in English and French, no terminal,
    the Office and Utility categories, the icon's theme name."""
    entry = read_entry(desktop.entry_text(["/usr/bin/robo", "tray", "--server", "https://robocore.example"]))
    assert entry["Type"] == "Application" and entry["Name"] == "Robocore" and entry["Name[fr]"] == "Robocore"
    assert entry["Comment"] == "Launch your Robocore robots and follow their runs"
    assert entry["Comment[fr]"] == "Lancer vos robots Robocore et suivre leurs exécutions"
    assert entry["GenericName[fr]"] == "Lanceur de robots"
    assert entry["Terminal"] == "false" and entry["Categories"] == "Office;Utility;" and entry["Icon"] == "robocore"
    assert "X-GNOME-Autostart-enabled" not in entry


def test_launch_command_from_the_install() -> None:
    """Outside the packaged app the entry starts `robo tray --server URL` (the environment's own `robo`)."""
    argv = desktop.launch_command("https://robocore.example")
    assert argv[-3:] == ["tray", "--server", "https://robocore.example"] or argv[-4:-2] == ["-m", "robocore.tray"]
    assert Path(argv[0]).is_absolute()


def test_launch_command_when_packaged(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the PyInstaller app the entry starts the app's own executable with --server."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/robocore-tray/robocore-tray")
    assert desktop.launch_command("http://x") == ["/opt/robocore-tray/robocore-tray", "--server", "http://x"]


def cli() -> typer.Typer:
    built = typer.Typer()
    cmd_tray.register(built)
    built.command("other")(lambda: None)
    return built


def test_install_and_remove_under_xdg_home(tray_dirs: Path) -> None:
    """`robo tray --install-desktop --server URL` writes the menu entry and the icons under $XDG_DATA_HOME,
    `--autostart on` the same entry under $XDG_CONFIG_HOME/autostart; `--autostart off` and
    `--remove-desktop` take them away again."""
    data, config = tray_dirs / "data", tray_dirs / "config"
    server = "http://127.0.0.1:8000/<script>alert(1)</script>?q='x'&cmd=calc"
    done = CliRunner().invoke(cli(), ["tray", "--install-desktop", "--server", server + "/"])
    assert done.exit_code == 0, done.output
    menu = data / "applications" / "robocore-tray.desktop"
    icons = [data / "icons/hicolor/scalable/apps/robocore.svg", data / "icons/hicolor/64x64/apps/robocore.png"]
    assert menu.is_file() and all(icon.is_file() for icon in icons)
    assert str(menu) in done.output.replace("\n", "")
    assert split_exec(read_entry(menu.read_text(encoding="utf-8"))["Exec"])[-2:] == ["--server", server]
    validate(menu)

    done = CliRunner().invoke(cli(), ["tray", "--autostart", "on", "--server", server])
    autostart = config / "autostart" / "robocore-tray.desktop"
    assert done.exit_code == 0 and autostart.is_file(), done.output
    assert read_entry(autostart.read_text(encoding="utf-8"))["X-GNOME-Autostart-enabled"] == "true"
    validate(autostart)

    assert CliRunner().invoke(cli(), ["tray", "--autostart", "off"]).exit_code == 0
    assert not autostart.exists()
    done = CliRunner().invoke(cli(), ["tray", "--remove-desktop"])
    assert done.exit_code == 0 and not menu.exists() and not any(icon.exists() for icon in icons)


def test_desktop_options_explain_what_is_missing(tray_dirs: Path) -> None:
    """--install-desktop and --autostart on need --server: the command says so and exits 2."""
    done = CliRunner().invoke(cli(), ["tray", "--install-desktop"])
    assert done.exit_code == 2 and "--install-desktop" in done.output and "--server" in done.output
    done = CliRunner().invoke(cli(), ["tray", "--autostart", "on"])
    assert done.exit_code == 2 and "--autostart on" in done.output
    done = CliRunner().invoke(cli(), ["tray", "--autostart", "maybe"])
    assert done.exit_code == 2 and "maybe" in done.output


def test_linux_only(monkeypatch: pytest.MonkeyPatch, tray_dirs: Path) -> None:
    """On Windows the options say clearly that they are for Linux only, and write nothing."""
    monkeypatch.setattr(sys, "platform", "win32")
    done = CliRunner().invoke(cli(), ["tray", "--autostart", "on", "--server", "http://x"])
    assert done.exit_code == 2 and "Linux" in done.output and "win32" in done.output
    assert not (tray_dirs / "config" / "autostart").exists()


def test_version_without_screen() -> None:
    """`--version` prints `robocore-tray <version>` and exits 0 before anything needs Qt."""
    done = CliRunner().invoke(cli(), ["tray", "--version"])
    assert done.exit_code == 0 and done.output.strip() == f"robocore-tray {__version__}"


# ---- the PyInstaller app -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-folder app built from packaging/robocore-tray.spec into a temporary folder (minutes)."""
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    need(pyinstaller.is_file(), "PyInstaller absent — pip install -r requirements/test.txt")
    out = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    done = subprocess.run([str(pyinstaller), "--noconfirm", "--log-level", "WARN", "--distpath", str(out / "dist"),
                           "--workpath", str(out / "build"), str(SPEC)],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    app = out / "dist" / "robocore-tray"
    size = sum(f.stat().st_size for f in app.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"\nrobocore-tray built in {time.monotonic() - started:.0f} s, {size / 1e6:.0f} MB")  # noqa: T201
    return app


def executable(app: Path) -> Path:
    return app / ("robocore-tray.exe" if sys.platform == "win32" else "robocore-tray")


@pytest.mark.e2e
def test_packaged_version(built: Path) -> None:
    """The built app answers `--version` with its name and Robocore's version, exit 0, without a screen."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([str(executable(built)), "--version"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"robocore-tray {__version__}"


@pytest.mark.e2e
def test_packaged_contents(built: Path) -> None:
    """The folder holds the catalogues and icons, the xcb and offscreen Qt platforms, and none of what the tray
    does not use: Playwright and its browsers, the server, QML, Qt's other platforms."""
    internal = built / "_internal"
    for lang in ("fr", "en"):
        assert (internal / "robocore" / "locale" / lang / "LC_MESSAGES" / "robocore.mo").is_file()
    assert (internal / "robocore" / "tray" / "icons" / "robocore.svg").is_file()
    platforms = {p.name for p in (internal / "PySide6" / "Qt" / "plugins" / "platforms").iterdir()}
    assert platforms == {"libqxcb.so", "libqoffscreen.so", "libqminimal.so"}
    names = {p.name for p in built.rglob("*")}
    for unwanted in ("playwright", "ms-playwright", "fastapi", "sqlalchemy", "qml", "libQt6Qml.so.6",
                     "libQt6Quick.so.6", "libqwayland.so", "libgtk-3.so.0", "mypy", "hypothesis"):
        assert unwanted not in names


TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120", "--height", "32"]


@pytest.fixture
def tray_screen(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A virtual screen (Xvfb, on a display number it chooses) with a tray host (trayer) at its top right.

    trayer is started again (three tries) when it exits or shows no window within 20 s, as happens on a
    loaded CI machine; a failure says what trayer printed."""
    for tool in ("Xvfb", "trayer", "xdotool"):
        need(shutil.which(tool) is not None, f"{tool} absent — scripts/setup.sh installs xvfb, trayer and xdotool")
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    trayer: subprocess.Popen[bytes] | None = None
    try:
        with os.fdopen(read) as fh:
            display = ":" + fh.readline().strip()
        env = {**os.environ, "DISPLAY": display}
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        said = tmp_path / "trayer.log"
        for _ in range(3):
            stop_process(trayer)
            with said.open("ab") as log:
                trayer = subprocess.Popen(TRAYER, env=env, stdout=log, stderr=subprocess.STDOUT)
            if shown(trayer, env):
                break
        else:
            pytest.fail(f"no trayer's window on {display} after 3 tries; trayer said: "
                        f"{said.read_text(errors='replace')[-2000:]!r}")
        yield env
    finally:
        stop_process(trayer)
        stop_process(xvfb)


def shown(trayer: subprocess.Popen[bytes], env: dict[str, str]) -> bool:
    """Whether trayer shows its window within 20 s and is still running."""
    until(lambda: trayer.poll() is not None or bool(windows(env, "--class", "trayer")), 20)
    return trayer.poll() is None and bool(windows(env, "--class", "trayer"))


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def until(check: Callable[[], bool], timeout: float) -> bool:
    """Whether `check` became true within `timeout` seconds (polled every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def windows(env: dict[str, str], *query: str) -> list[str]:
    done = subprocess.run(["xdotool", "search", *query], env=env, capture_output=True, text=True, timeout=10)
    return done.stdout.split()


def wait_for(check: object, what: str, timeout: float = 30) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.2)


GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1] + ["-platform", "xcb"])
image = app.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
tray = image.copy(1024 - 120, 0, 120, 32)
print(sum(1 for x in range(tray.width()) for y in range(tray.height())
          if tray.pixelColor(x, y).name() in ("#666666", "#676767", "#656565")))
"""


def grab(env: dict[str, str], path: Path) -> int:
    """A screenshot of the whole virtual screen into `path`; returns the grey pixels of the tray's area."""
    done = subprocess.run([sys.executable, "-c", GRAB, str(path)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.e2e
def test_packaged_app_shows_its_icon(built: Path, tray_screen: dict[str, str], tmp_path: Path) -> None:
    """Started under Xvfb with trayer and a server that does not answer, the built app shows its grey
    "unreachable" icon in the tray (a window of its own, grey pixels in trayer's area) and ends with exit
    code 0 when terminated. Screenshot: artifacts/screens/tray-packaged.png."""
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = tmp_path / "config"
    (config / "robocore").mkdir(parents=True)
    (config / "robocore" / "tray-credentials.json").write_text(f'{{"{server}": "a-token"}}', encoding="utf-8")
    env = {**tray_screen, "XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "ROBOCORE_LANGUAGE": "fr"}
    before = set(windows(env, "--name", ""))
    proc = subprocess.Popen([str(executable(built)), "--server", server], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: proc.poll() is not None or bool(set(windows(env, "--classname", "robocore-tray")) - before),
                 "window of robocore-tray")
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        SCREENS.mkdir(parents=True, exist_ok=True)
        shot = SCREENS / "tray-packaged.png"
        deadline = time.monotonic() + 30
        while (grey := grab(env, shot)) < 50 and time.monotonic() < deadline:  # the icon turns grey once offline
            time.sleep(0.5)
        assert grey >= 50, "no grey (unreachable) icon in trayer's area: see " + str(shot)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        output = proc.stdout.read() if proc.stdout else ""
    assert code == 0, output
    assert "Traceback" not in output, output
