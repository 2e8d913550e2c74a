"""`robo`'s help in the user's language: English msgids in the code, French by default, English when asked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from robocore.cli.app import app
from robocore.cli.help_text import language_of, translate_tree
from robocore.i18n import translations

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "robocore" / "cli"


def _robo(*args: str, **env: str) -> str:
    """`robo ARGS` as the user runs it (the `robo` script's entry point), in a wide non-terminal output."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    environ.update(COLUMNS="250", TERMINAL_WIDTH="250", **env)
    done = subprocess.run([sys.executable, "-c", "from robocore.cli import main; main()", *args], env=environ,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _texts(command: Any, path: str = "robo") -> Iterator[tuple[str, str]]:
    """(where, text) of every help text of a Click command tree."""
    for text in (command.help, command.short_help):
        if text:
            yield path, text
    for param in command.params:
        if getattr(param, "help", None):
            yield f"{path} {param.name}", param.help
    for name, sub in getattr(command, "commands", {}).items():
        yield from _texts(sub, f"{path} {name}")


def test_help_is_french_by_default() -> None:
    """`robo --help` and `robo run --help` with no setting: the French of every text, typer's words included."""
    top, run = _robo("--help"), _robo("run", "--help")
    assert "Robocore — robots logiciels des administrations." in top
    assert "Lancer un robot." in top and "Reprendre une exécution interrompue" in top and "Commandes" in top
    assert "Afficher cette aide et quitter." in top
    assert "Voir le navigateur" in run and "Pas de barre de progression" in run and "[défaut\u00a0: no-headed]" in run
    assert "un chemin de fichier relatif part du dossier courant" in run
    for shown in (top, run):
        assert "Run a robot." not in shown and "Show the browser" not in shown and " / " not in shown


def test_help_in_english_with_lang_or_the_setting() -> None:
    """`robo --lang en …` and ROBOCORE_LANGUAGE=en give the English texts; --lang wins over the setting."""
    for top, run in ((_robo("--lang", "en", "--help"), _robo("--lang", "en", "run", "--help")),
                     (_robo("--help", ROBOCORE_LANGUAGE="en"), _robo("run", "--help", ROBOCORE_LANGUAGE="en"))):
        assert "Robocore — software robots for public administrations." in top
        assert "Run a robot." in top and "Commands" in top and "Show this message and exit." in top
        assert "Show the browser" in run and "No progress bar" in run and "[default: no-headed]" in run
        assert "Lancer un robot." not in top and "Voir le navigateur" not in run
    assert "Lancer un robot." in _robo("--lang", "fr", "--help", ROBOCORE_LANGUAGE="en")
    resume = _robo("--lang", "en", "resume", "--help")
    assert "--verbose" in resume and "Show the run's log (info level)" in resume


def test_the_language_of_a_command_line() -> None:
    """--lang xx and --lang=xx are read; an unsupported one falls back to the setting (its error comes later)."""
    assert language_of(["--lang", "en", "run", "x"]) == "en"
    assert language_of(["--lang=en", "--help"]) == "en"
    assert language_of(["run", "x", "--", "--lang", "en"]) == language_of([])
    assert language_of(["--lang", "de", "--help"]) == language_of([])


def test_every_help_text_is_an_english_msgid_translated_into_french() -> None:
    """No doubled « français / English » help: each text is a msgid with a French translation in the catalogue."""
    tree = typer.main.get_command(app)
    texts = list(_texts(tree))
    assert len(texts) > 60
    doubled = [where for where, text in texts if " / " in text]
    assert not doubled, f"doubled help texts (write an English msgid N_(…) and translate it): {doubled}"
    french = translations("fr")._catalog  # type: ignore[attr-defined]  # msgid → translation, as compiled
    untranslated = [f"{where}: {text!r}" for where, text in texts if not french.get(text)]
    assert not untranslated, f"help texts missing from the French catalogue (N_ + scripts/i18n.py): {untranslated}"
    translate_tree(tree, "fr")
    assert typer.main.get_command(app).help != tree.help  # translated in place, each start builds a fresh tree


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_no_help_text_is_written_unmarked(path: Path) -> None:
    """help= is always N_("…") in robocore/cli: a plain literal (often a doubled one) would never be translated."""
    source = path.read_text(encoding="utf-8")
    plain = [source.count("\n", 0, m.start()) + 1 for m in re.finditer(r"\bhelp=(?:f?[\"'(])", source)]
    assert not plain, f"{path.name}: lines {plain}: write help=N_(\"English text\")"
    marked = re.findall(r"\bhelp=N_\(\s*\"((?:[^\"\\]|\\.)*)\"", source)
    assert not [text for text in marked if " / " in text], f"{path.name}: a doubled help text"


def test_help_without_settings_stays_light() -> None:
    """`robo --help` with no ROBOCORE_* variable loads neither the settings nor typer's rich formatter until
    help is shown: the language is then the default, read without pydantic-settings."""
    code = ("import sys\nfrom robocore.cli import main\nsys.argv = ['robo', '--help']\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('pydantic_settings', 'robocore.settings') "
            "if m in sys.modules))")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60,
                          check=True)
    assert "Afficher cette aide et quitter." in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
