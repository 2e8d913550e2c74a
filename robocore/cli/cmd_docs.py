"""`robo plugins [ACTION]` and `robo docs`: the installed actions, their parameters, results and examples."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from robocore.errors import RobocoreError, RobotDefinitionError
from robocore.i18n import N_
from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.plugins import Registry

err = Console(stderr=True)
Format = Literal["html", "markdown", "both"]


# ---- robo plugins -------------------------------------------------------------------------------
def show_plugins(out: Console, action: str | None) -> list[tuple[str, str, str]]:
    """Print the actions (or one action in detail); returns the extensions that failed to load.

    On a terminal the list is a table as wide as the terminal, its cells wrapped; otherwise
    (a pipe, a file) one tab-separated line per action, never cut.

    Raises:
        PluginError: a plugin cannot be loaded (two of them provide the same action...).
        RobotDefinitionError: `action` is not an installed action.
    """
    from robocore.plugins import load_registry

    registry = load_registry()
    if action is not None:
        _show_action(out, registry, action)
        return []
    _show_actions(out, registry)
    return _show_extensions(out, registry)


def _show_action(out: Console, registry: "Registry", name: str) -> None:
    from robocore.reference import action_markdown, document

    action_def = registry.get(name)
    if action_def is None:
        close = registry.suggest(name)
        hint = _(" — did you mean '{name}'?", name=close) if close else ""
        raise RobotDefinitionError(_("unknown action '{action}'", action=name) + hint)
    text = action_markdown(document(action_def), level=1)
    if out.is_terminal:
        from rich.markdown import Markdown

        out.print(Markdown(text, code_theme="ansi_dark"))
    else:
        _plain(out, text)


def _show_actions(out: Console, registry: "Registry") -> None:
    rows = [(a.name, ", ".join(n + ("" if n in a.required else "?") for n in a.param_names), a.doc,
             a.provider.split(" (")[0]) for a in registry]
    if not out.is_terminal:
        _plain(out, *("\t".join(row) for row in rows))
        return
    from rich.table import Table

    table = Table(expand=False)
    for title in (_("Action"), _("Parameters"), _("Description"), _("Provider")):
        table.add_column(title, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print(_("Details of an action (parameters, result, example): robo plugins ACTION"), style="dim")


def _show_extensions(out: Console, registry: "Registry") -> list[tuple[str, str, str]]:
    from robocore import extensions

    loaded = [(extensions.ACTIONS.kind, provider) for provider in registry.providers]
    broken = [(extensions.ACTIONS.kind, provider, why) for provider, why in registry.broken.items()]
    for point in extensions.POINTS:
        if point is not extensions.ACTIONS:  # actions: the registry's, which ROBOCORE_PLUGINS restricts
            found = extensions.load(point)
            loaded += [(point.kind, ext.label) for ext in found]
            broken += [(point.kind, b.label, b.error) for b in found.broken.values()]
    if not out.is_terminal:
        _plain(out, "", *(f"{kind}\t{label}" for kind, label in loaded))
        return broken
    from rich.table import Table

    table = Table(_("Kind"), _("Extension"))
    for column in table.columns:
        column.overflow = "fold"
    for kind, label in loaded:
        table.add_row(kind, label)
    out.print(table)
    return broken


def _plain(out: Console, *lines: str) -> None:
    """Lines written as they are (a pipe, a file): no markup, no wrapping, tabs kept."""
    out.file.write("".join(line + "\n" for line in lines))
    out.file.flush()


# ---- robo docs ----------------------------------------------------------------------------------
def write_docs(output: Path, fmt: Format) -> list[Path]:
    """Write the reference of every installed action to `output` (actions.md, actions.html)."""
    from robocore.plugins import load_registry
    from robocore.reference import collect, html, markdown

    docs = collect(load_registry())
    output.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt in ("markdown", "both"):
        path = output / "actions.md"
        path.write_text(markdown(docs), encoding="utf-8")
        written.append(path)
    if fmt in ("html", "both"):
        path = output / "actions.html"
        path.write_text(html(docs), encoding="utf-8")
        written.append(path)
    return written


def docs(
    output: Annotated[Path, typer.Option("--output", "-o", help=N_("Folder to write actions.md and actions.html to"))
                      ] = Path("."),
    fmt: Annotated[str, typer.Option("--format", metavar="html|markdown|both",
                                     help=N_("What to write: html, markdown or both"))] = "both",
    lang: Annotated[str | None, typer.Option("--lang", metavar="fr|en",
                                             help=N_("Language of the section titles (default: fr)"))] = None,
) -> None:
    """Write the reference of every installed action: parameters, result, examples (Markdown and HTML)."""
    from robocore.i18n import set_language

    if fmt not in ("html", "markdown", "both"):
        err.print(_("--format must be one of {choices}", choices="html, markdown, both"), highlight=False)
        raise typer.Exit(2)
    if lang is not None:
        try:
            set_language(lang)
        except ValueError as exc:
            err.print(str(exc), highlight=False)
            raise typer.Exit(2) from None
    try:
        written = write_docs(output, fmt)  # type: ignore[arg-type]
    except (RobocoreError, OSError) as exc:
        title = _("Error")
        err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    for path in written:
        err.print(_("Reference written: {path}", path=path), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `robo docs` to the CLI."""
    app.command("docs", help=N_("Write the reference of the installed actions (Markdown and HTML)."))(docs)
