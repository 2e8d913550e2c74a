"""The CLI's help in the user's language: English msgids marked `N_`, translated once per command tree.

Help texts are written `help=N_("Run a robot.")` (a no-op marker the catalogues extract); just
before a command line is parsed, `TranslatedGroup.main` translates the whole Click tree that
typer built — every command's help and short help, every parameter's help, the help option's
own text and typer's panel titles — into the language chosen by `--lang` on the command line,
else ROBOCORE_LANGUAGE, else French. `robo --help` thus never imports more than the catalogue.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from typer.core import TyperGroup

from robocore.i18n import DEFAULT, N_, supported, translations

HELP_OPTION = N_("Show this message and exit.")
# typer's own words around the help (typer.rich_utils reads these module constants when it formats help)
_TYPER_WORDS = {"ARGUMENTS_PANEL_TITLE": N_("Arguments"), "OPTIONS_PANEL_TITLE": N_("Options"),
                "COMMANDS_PANEL_TITLE": N_("Commands"), "DEFAULT_STRING": N_("[default: {}]"),
                "REQUIRED_LONG_STRING": N_("[required]")}


def language_of(args: Sequence[str]) -> str:
    """The language of a command line: `--lang xx` (or `--lang=xx`) when supported, else the setting, else French.

    A wrong ROBOCORE_* variable gives the default here: the command's own check reports it.
    """
    for position, arg in enumerate(args):
        if arg == "--":
            break
        value = args[position + 1] if arg == "--lang" and position + 1 < len(args) else (
            arg.partition("=")[2] if arg.startswith("--lang=") else None)
        if value is not None and supported(value):
            return supported(value) or DEFAULT
    import os

    if not any(name[:9].upper() == "ROBOCORE_" for name in os.environ):
        return DEFAULT  # no setting at all: the default language, without loading the settings (~20 ms)
    from robocore.errors import RobocoreError
    from robocore.i18n import current

    try:
        return current()
    except RobocoreError:
        return DEFAULT


def translate_tree(command: Any, lang: str) -> None:
    """Translate in place the help of a Click `command`, of its parameters and of every sub-command, into `lang`.

    The tree must hold msgids (as typer builds it afresh at each start): a translated text is not a msgid.
    Commands are typer's (its own copy of Click), read by their attributes.
    """
    catalogue = translations(lang)

    def text(value: str | None) -> str | None:
        return catalogue.gettext(value) if value else value

    command.help = text(command.help)
    command.short_help = text(command.short_help)
    for param in command.params:
        if hasattr(param, "help"):
            param.help = text(param.help)
    help_option = command.get_help_option(command.context_class(command, **command.context_settings))
    if help_option is not None:
        help_option.help = catalogue.gettext(HELP_OPTION)
    command.context_class = _helping(command.context_class, lang)
    for sub in getattr(command, "commands", {}).values():  # a group's sub-commands
        translate_tree(sub, lang)


def translate_typer_words(lang: str) -> None:
    """typer's panel titles and `[default: …]` in `lang` (module constants of typer.rich_utils).

    Only when help is shown (`_helping`): importing typer.rich_utils costs about 30 ms.
    """
    from typer import rich_utils

    catalogue = translations(lang)
    for name, msgid in _TYPER_WORDS.items():
        setattr(rich_utils, name, catalogue.gettext(msgid))


@cache
def _helping(base: type, lang: str) -> type:
    """A Click context class whose help (--help, or a group called without its command) has typer's words in `lang`."""

    def get_help(self: Any) -> str:
        translate_typer_words(lang)
        return str(base.get_help(self))  # type: ignore[attr-defined]

    return type(f"Helping{base.__name__}", (base,), {"get_help": get_help})


class TranslatedGroup(TyperGroup):
    """The root `robo` group: translates its tree into the command line's language before parsing it."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> Any:
        import sys

        translate_tree(self, language_of(list(sys.argv[1:] if args is None else args)))
        return super().main(args, *rest, **options)
