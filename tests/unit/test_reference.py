"""`robo docs` and `robo plugins ACTION`: every installed action's parameters, result fields and examples."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from robocore.i18n import set_language
from robocore.plugins import Registry, load_registry
from robocore.reference import collect, html, markdown

ROBO = Path(sys.executable).with_name("robo")
ROOT = Path(__file__).resolve().parents[2]
BUILTIN = "browser,excel,files,flow,reconcile"
DOCS_COMMAND = ["--lang", "en", "docs", "--format", "markdown"]  # how docs/actions.md is made (plugins: BUILTIN)


def _env(tmp_path: Path, plugins: str = BUILTIN, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(tmp_path / "home"), ROBOCORE_PLUGINS=plugins, **extra)
    return env


def _robo(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROBO), *args], capture_output=True, text=True, env=_env(tmp_path, **extra),
                          timeout=120, cwd=tmp_path)


@pytest.fixture(scope="module")
def builtin() -> Registry:
    """The registry of the built-in actions, as `robo` sees it with ROBOCORE_PLUGINS=BUILTIN."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROBOCORE_PLUGINS", BUILTIN)
        mp.setattr("robocore.plugins._registry", None)
        registry = load_registry(refresh=True)
        mp.setattr("robocore.plugins._registry", None)
    return registry


@pytest.fixture(scope="module")
def generated(builtin: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`robo docs` run once (French, both formats): the text of actions.md and actions.html."""
    tmp = tmp_path_factory.mktemp("docs")
    proc = _robo(tmp, "docs", "--output", str(tmp / "sortie"))
    assert proc.returncode == 0, proc.stderr
    assert "Référence écrite" in proc.stderr
    return {name: (tmp / "sortie" / f"actions.{name}").read_text(encoding="utf-8") for name in ("md", "html")}


def _section(text: str, name: str, start: str, end: str) -> str:
    """The part of a generated page about one action."""
    begin = text.index(start.format(name=name))
    following = text.find(end, begin + 1)
    return text[begin:following if following > 0 else len(text)]


def test_robo_docs_contains_every_builtin_actions_result_fields(builtin: Registry,
                                                                generated: dict[str, str]) -> None:
    """Each built-in action's section, in Markdown and HTML, lists its parameters and every result field."""
    assert builtin.names()
    for action_def in builtin:
        md = _section(generated["md"], action_def.name, "### `{name}`", "\n### ")
        page = _section(generated["html"], action_def.name, "<code>{name}</code></h3>", "<section")
        for param in action_def.param_names:
            assert f"`{param}`" in md and f"<code>{param}</code>" in page, (action_def.name, param)
        result = action_def.result
        if result.kind == "none":
            assert "Aucun résultat" in md and "Aucun résultat" in page, action_def.name
        for field in result.fields:
            if field.name == "*":
                assert "tout nom" in md, action_def.name
                continue
            assert f"`{field.name}`" in md and f"<code>{field.name}</code>" in page, (action_def.name, field.name)
            assert field.description.split("`")[0].strip() in md, (action_def.name, field.name)
        for example in action_def.examples:
            assert f"```yaml\n{example}\n```" in md, action_def.name
    assert "## Sommaire" in generated["md"] and "**Paramètres**" in generated["md"]


def test_html_page_is_self_contained_escaped_and_scriptless(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page loads nothing, runs no script, escapes docstrings, and its CSP allows its style by hash."""
    module = types.ModuleType("piege_doc")
    monkeypatch.setitem(sys.modules, "piege_doc", module)
    exec(compile('from robocore import action\n\n\n@action("piege.faire")\n'  # noqa: S102 - test source
                 'def faire(ctx, x: int = 1) -> None:\n    """Do <script>alert(1)</script> & more."""\n',
                 "<piege_doc>", "exec"), module.__dict__)
    registry = Registry()
    registry.add_module(module, "plugin 'piege' (piege: piege_doc)")
    page = html(collect(registry))
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page and "default-src 'none'" in page


def test_section_titles_follow_the_language(builtin: Registry) -> None:
    """Titles come from the catalogues (French by default, English with --lang en); docstrings stay as written."""
    docs = collect(builtin)
    token = set_language("en")
    try:
        english = markdown(docs)
    finally:
        from robocore.i18n import reset_language

        reset_language(token)
    assert "**Parameters**" in english and "## Contents" in english and "Paramètres" not in english
    assert "Read one sheet (or a CSV) as rows keyed by its header line." in english


def test_committed_actions_md_is_up_to_date(tmp_path: Path) -> None:
    """docs/actions.md is what `robo --lang en docs --format markdown` writes for the built-in actions.

    When it fails: ROBOCORE_PLUGINS=browser,excel,files,flow,reconcile robo --lang en docs --format markdown -o docs
    """
    proc = _robo(tmp_path, *DOCS_COMMAND, "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    fresh = (tmp_path / "actions.md").read_text(encoding="utf-8")
    committed = (ROOT / "docs" / "actions.md").read_text(encoding="utf-8")
    assert committed == fresh, "docs/actions.md is stale: regenerate it (see this test's docstring)"


def test_plugins_action_shows_parameters_result_and_example(builtin: Registry, tmp_path: Path) -> None:
    """`robo plugins excel.read_table` shows its parameters, every result field with its type, and an example."""
    proc = _robo(tmp_path, "plugins", "excel.read_table")
    assert proc.returncode == 0, proc.stderr
    action_def = builtin.get("excel.read_table")
    assert action_def is not None
    for param in action_def.param_names:
        assert f"| `{param}` |" in proc.stdout, param
    for field in action_def.result.fields:
        assert f"| `{field.name}` | `{field.type.replace('|', chr(92) + '|')}` |" in proc.stdout, field.name
    assert "**Résultat** (`Table`)" in proc.stdout and "use: excel.read_table" in proc.stdout


def test_plugins_unknown_action_suggests_the_closest(tmp_path: Path) -> None:
    """`robo plugins` with a misspelt action fails naming it and the closest action."""
    proc = _robo(tmp_path, "plugins", "excel.read_tabel")
    assert proc.returncode == 1
    assert "action inconnue 'excel.read_tabel'" in proc.stderr and "'excel.read_table'" in proc.stderr


def test_plugins_list_is_not_cut_when_not_a_terminal(builtin: Registry, tmp_path: Path) -> None:
    """Piped, `robo plugins` writes one whole line per action (name, parameters, description, plugin)."""
    proc = _robo(tmp_path, "plugins", COLUMNS="80")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for action_def in builtin:
        params = ", ".join(n + ("" if n in action_def.required else "?") for n in action_def.param_names)
        assert "\t".join([action_def.name, params, action_def.doc, action_def.provider.split(" (")[0]]) in lines
    assert any(len(line) > 80 for line in lines)
