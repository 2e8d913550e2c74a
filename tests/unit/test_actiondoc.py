"""Every action documents its result: a TypedDict of described fields, read from its return annotation."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import yaml

from robocore import Context
from robocore.actiondoc import arg_descriptions, examples, mismatches, sections, summary
from robocore.actions import excel, files, flow, reconcile
from robocore.errors import PluginError
from robocore.plugins import ActionDef, Registry, load_registry

BUILTIN = "browser,excel,files,flow,reconcile"

DOCUMENTED = '''
from typing import Annotated, Any, NotRequired, TypedDict

from robocore import action


class Ligne(TypedDict):
    """A line."""

    code: Annotated[str, "the code"]


class Sortie(TypedDict):
    """The output."""

    total: Annotated[float, "the total"]
    lignes: Annotated[list[Ligne], "the lines"]
    autres: Annotated[list[Ligne], "other lines"]
    note: NotRequired[Annotated[str, "a note, when there is one"]]


@action("essai.calculer")
def calculer(ctx, valeur: int) -> Sortie:
    """Compute.

    Args:
        valeur: the value to compute
            over two lines.

    Text at the margin again.

    Example:
        - use: essai.calculer
          with: {valeur: 2}

    Example:
        - id: deux
          use: essai.calculer
          with: {valeur: "{{ inputs.n }}"}
    """
    return {"total": 1.0, "lignes": [], "autres": []}


class Vague(TypedDict):
    total: float
    detail: Annotated[str, ""]


@action("essai.vague")
def vague(ctx) -> Vague:
    """Fields without descriptions."""
    return {"total": 1.0, "detail": ""}


@action("essai.opaque")
def opaque(ctx) -> dict[str, Any]:
    """An undocumented result."""
    return {}


@action("essai.muet")
def muet(ctx) -> None:
    """No result."""


@action("essai.bancal")
def bancal(ctx) -> "Absente":
    """An unreadable result type."""
'''


@pytest.fixture()
def essai(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A plugin module, imported as an entry point would import it (in sys.modules: its types resolve)."""
    module = types.ModuleType("essai_doc")
    monkeypatch.setitem(sys.modules, "essai_doc", module)
    exec(compile(DOCUMENTED, "<essai_doc>", "exec"), module.__dict__)  # noqa: S102 - test source
    registry = Registry()
    registry.add_module(module, "plugin 'essai' (essai: essai_doc)")
    return registry


def _get(registry: Registry, name: str) -> ActionDef:
    found = registry.get(name)
    assert found is not None, name
    return found


@pytest.fixture(scope="module")
def builtin() -> Registry:
    """The registry of the built-in actions only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROBOCORE_PLUGINS", BUILTIN)
        mp.setattr("robocore.plugins._registry", None)
        registry = load_registry(refresh=True)
        mp.setattr("robocore.plugins._registry", None)
    assert all("(robocore:" in a.provider for a in registry)
    return registry


def test_every_builtin_action_documents_its_result(builtin: Registry) -> None:
    """Each built-in action returns None or a TypedDict whose every field (nested ones too) is described."""
    assert builtin.names(), "no built-in action found"
    for action_def in builtin:
        result = action_def.result
        assert result.kind in ("none", "typed"), f"{action_def.name}: result not documented ({result.type_name})"
        assert result.undescribed() == [], f"{action_def.name}: fields without a description"
        if result.kind == "typed":
            assert result.fields and result.schema, action_def.name


def test_every_builtin_action_has_a_yaml_example_using_it(builtin: Registry) -> None:
    """Each built-in action's docstring holds an `Example:` step that is valid YAML and uses that action."""
    for action_def in builtin:
        assert action_def.examples, f"{action_def.name}: no Example: section"
        for example in action_def.examples:
            steps = yaml.safe_load(example)
            assert isinstance(steps, list) and steps[0]["use"] == action_def.name, example


def test_nested_fields_types_and_examples_are_read(essai: Registry) -> None:
    """Nested TypedDicts are listed by path; a repeated one refers to the first; Args and Examples are read."""
    calculer = _get(essai, "essai.calculer")
    fields = {f.name: f for f in calculer.result.fields}
    assert list(fields) == ["total", "lignes", "lignes[].code", "autres", "note"]
    assert fields["lignes"].type == "list[Ligne]" and fields["lignes[].code"].description == "the code"
    assert fields["autres"].same_as == "lignes" and fields["note"].required is False
    assert calculer.result.schema["required"] == ["total", "lignes", "autres"]
    assert calculer.result.schema["properties"]["lignes"]["items"]["properties"]["code"]["description"] == "the code"
    assert calculer.arg_docs == {"valeur": "the value to compute over two lines."}
    assert calculer.description == "Compute.\n\nText at the margin again."
    assert calculer.examples == ["- use: essai.calculer\n  with: {valeur: 2}",
                                 '- id: deux\n  use: essai.calculer\n  with: {valeur: "{{ inputs.n }}"}']


def test_undescribed_and_undocumented_results_are_reported(essai: Registry) -> None:
    """A field without a description, or a result that is not a TypedDict, is reported; None is no result."""
    assert _get(essai, "essai.vague").result.undescribed() == ["total", "detail"]
    opaque = _get(essai, "essai.opaque").result
    assert opaque.kind == "undocumented" and opaque.undescribed() == ["<dict[str, Any]>"]
    muet = _get(essai, "essai.muet").result
    assert muet.kind == "none" and muet.undescribed() == []


def test_unreadable_result_type_names_the_action(essai: Registry) -> None:
    """A return annotation naming an absent type fails naming the action and its plugin, when asked for."""
    with pytest.raises(PluginError) as info:
        _ = _get(essai, "essai.bancal").result
    assert "essai.bancal" in str(info.value) and "plugin 'essai'" in str(info.value)


def test_docstring_sections() -> None:
    """Sections start at the margin; indented `Name:` lines inside a section are content."""
    doc = """First line.

    More text.

    Args:
        a: one
        b (int): two
            continued
    Raises:
        ValueError: bad
    """
    assert summary(doc) == "First line.\n\nMore text."
    assert arg_descriptions(doc) == {"a": "one", "b": "two continued"}
    assert set(sections(doc)) == {"", "Args", "Raises"}
    assert examples(doc) == []


# ---- the documented results are what the actions return ----------------------------------------
@pytest.fixture()
def ctx(tmp_path: Path) -> Context:
    robot_dir, run_dir = tmp_path / "robot", tmp_path / "run"
    robot_dir.mkdir()
    run_dir.mkdir()
    return Context(run_id="r1", robot="doc", robot_dir=robot_dir, run_dir=run_dir)


def _check(func: Any, value: Any) -> None:
    annotation = get_type_hints(func, include_extras=True)["return"]
    assert mismatches(annotation, value) == [], func.__name__


def test_files_flow_and_excel_results_match_their_documentation(ctx: Context) -> None:
    """files.*, flow.* and excel.* return exactly the fields their TypedDict documents, of those types."""
    _check(files.write_text, files.write_text(ctx, Path("a.txt"), "un\ndeux\n"))
    _check(files.read_text, files.read_text(ctx, Path("a.txt")))
    _check(files.read_text, files.read_text(ctx, Path("absent.txt"), missing_ok=True))
    _check(files.list_files, files.list_files(ctx, Path("."), "*.txt"))
    _check(files.copy, files.copy(ctx, Path("a.txt"), Path("b.txt")))
    _check(files.move, files.move(ctx, Path("b.txt"), Path("c.txt")))
    _check(flow.log, flow.log(ctx, "message"))
    rows = [{"Numéro": "F-1", "Montant": 12.5}, {"Numéro": "F-2", "Montant": 3.0}]
    _check(excel.write_table, excel.write_table(ctx, Path("t.xlsx"), rows))
    _check(excel.append_rows, excel.append_rows(ctx, Path("t.xlsx"), [{"Numéro": "F-3", "Montant": 1.0}]))
    _check(excel.read_table, excel.read_table(ctx, Path("t.xlsx")))


def test_reconcile_result_matches_its_documentation(ctx: Context) -> None:
    """reconcile.tables returns every documented category, count and total, entries of the documented shapes."""
    left = [{"ref": "A", "montant": 10.0}, {"ref": "B", "montant": 5.0}, {"ref": "C", "montant": 1.0},
            {"ref": "D", "montant": 2.0}, {"ref": "D", "montant": 2.0}, {"ref": "", "montant": 4.0}]
    right = [{"ref": "A", "montant": 10.0}, {"ref": "B", "montant": 6.0}, {"ref": "E", "montant": 7.0},
             {"ref": "F", "montant": 1.0}, {"ref": "F", "montant": 1.0}]
    result = reconcile.tables(ctx, left, right, "ref", "ref", output=Path("rapport.xlsx"))
    assert all(result[c] for c in ("matched", "mismatched", "only_left", "only_right",
                                   "duplicates_left", "duplicates_right"))  # every shape was checked
    _check(reconcile.tables, result)


def test_mismatches_names_missing_extra_and_mistyped_fields(essai: Registry) -> None:
    """Checking a value against its TypedDict names a missing key, an undocumented one and a wrong type."""
    annotation = get_type_hints(_get(essai, "essai.calculer").func, include_extras=True)["return"]
    assert mismatches(annotation, {"total": 1.0, "lignes": [{"code": "A"}], "autres": []}) == []
    problems = mismatches(annotation, {"total": "beaucoup", "lignes": [{"code": 3}], "surplus": 1})
    assert "result.autres: missing" in problems and "result.surplus: not documented" in problems
    assert any(p.startswith("result.total: float expected") for p in problems)
    assert any(p.startswith("result.lignes[0].code: str expected") for p in problems)
