"""The action registry: a signature is the schema, names are unique, `robo schema` describes every action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from robocore import BusinessError, Context, Secret, action
from robocore.errors import PluginError, RobotDefinitionError
from robocore.loader import parse_robot
from robocore.plugins import Registry, load_registry
from robocore.schema import robot_schema

ROBO = Path(sys.executable).with_name("robo")
FIXTURES = Path(__file__).parent / "fixtures"


PLUGIN_SOURCE = """
from pathlib import Path
from typing import Any, Literal

from robocore import Context, Secret, action
from robocore.actions.flow import log  # imported, not declared here: not this plugin's action


@action("essai.saisir")
def saisir(ctx: Context, montant: float, quantite: int, mode: Literal["rapide", "lent"] = "rapide",
           dossier: Path = Path("."), actif: bool = True, notes: list[str] | None = None) -> dict[str, Any]:
    \"\"\"Record an amount.\"\"\"
    return {"montant": montant, "quantite": quantite}


@action("essai.connecter")
def connecter(ctx: Context, utilisateur: str, mot_de_passe: Secret, texte: str = "") -> dict[str, Any]:
    \"\"\"Log in with a secret.\"\"\"
    return {"mdp": mot_de_passe, "texte": texte}
"""


def _module(name: str = "essai_plugin", source: str = PLUGIN_SOURCE) -> types.ModuleType:
    """A plugin module, built from source as an entry point would import it."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - test source
    return module


@pytest.fixture()
def registry() -> Registry:
    reg = Registry()
    reg.add_module(_module(), "plugin 'essai' (essai-plugin: essai_plugin)")
    return reg


def _robot(with_: str, use: str = "essai.saisir") -> str:
    return f"robot: t\nsteps:\n  - use: {use}\n    with: {with_}\n"


def test_parameters_come_from_the_signature(registry: Registry) -> None:
    """An action's parameters, required ones and defaults are read from its signature; ctx is not one."""
    saisir = registry.get("essai.saisir")
    assert saisir is not None
    assert saisir.param_names == ["montant", "quantite", "mode", "dossier", "actif", "notes"]
    assert saisir.required == ["montant", "quantite"]
    assert saisir.doc == "Record an amount."
    kwargs = saisir.validate({"montant": "12.5", "quantite": 3})
    assert kwargs == {"montant": 12.5, "quantite": 3, "mode": "rapide", "dossier": Path("."),
                      "actif": True, "notes": None}


@pytest.mark.parametrize(("with_", "line_words"), [
    ("{montant: douze, quantite: 1}", ("'montant'", "nombre attendu")),
    ("{montant: 1, quantite: 2.5}", ("'quantite'", "nombre entier attendu")),
    ("{montant: 1, quantite: 1, mode: turbo}", ("'mode'", "'rapide'")),
    ("{montant: 1, quantite: 1, actif: peut-etre}", ("'actif'", "booléen attendu")),
    ("{montant: 1, quantite: 1, notes: texte}", ("'notes'", "liste attendue")),
    ("{montant: 1}", ("'quantite'", "paramètre obligatoire manquant")),
    ("{montant: 1, quantite: 1, quantitee: 2}", ("'quantitee'", "vouliez-vous dire 'quantite'")),
])
def test_wrong_parameter_is_refused_by_the_loader(registry: Registry, with_: str,
                                                  line_words: tuple[str, ...]) -> None:
    """A literal parameter of the wrong type, a missing or an unknown one is refused before any run, at its line."""
    with pytest.raises(RobotDefinitionError) as info:
        parse_robot(_robot(with_), "robot.yaml", registry)
    message = str(info.value)
    assert message.startswith("robot.yaml:4:") or message.startswith("robot.yaml:3:"), message
    for word in line_words:
        assert word in message, message


def test_expression_parameters_are_checked_at_run_time(registry: Registry) -> None:
    """A parameter holding an expression passes the loader; its rendered value is validated when called."""
    spec = parse_robot(_robot("{montant: '{{ inputs.x }}', quantite: 1}"), "robot.yaml", registry)
    assert spec.steps[0].with_["montant"] == "{{ inputs.x }}"  # type: ignore[union-attr]
    saisir = registry.get("essai.saisir")
    assert saisir is not None
    with pytest.raises(BusinessError) as info:
        saisir.validate({"montant": "douze", "quantite": 1})
    assert "'montant'" in str(info.value) and "essai.saisir" in str(info.value)


def test_literal_value_for_a_secret_parameter_is_refused(registry: Registry) -> None:
    """A parameter typed Secret refuses a literal in the robot file."""
    with pytest.raises(RobotDefinitionError) as info:
        parse_robot(_robot("{utilisateur: agent, mot_de_passe: hunter2}", "essai.connecter"), "robot.yaml", registry)
    assert "valeur littérale interdite" in str(info.value) and "hunter2" not in str(info.value)
    declared = "secrets:\n  compte: {fields: [password]}\n"
    parse_robot(declared + _robot("{utilisateur: agent, mot_de_passe: '{{ secrets.compte.password }}'}",
                                  "essai.connecter"), "robot.yaml", registry)


def test_secret_reaches_only_parameters_typed_for_it(registry: Registry) -> None:
    """A Secret stays a Secret for a parameter typed Secret and is revealed for a plain str parameter."""
    connecter = registry.get("essai.connecter")
    assert connecter is not None
    secret = Secret("S3cr3t-param-0001", "compte.password")
    kwargs = connecter.validate({"utilisateur": "agent", "mot_de_passe": secret, "texte": secret})
    assert kwargs["mot_de_passe"] is secret
    assert kwargs["texte"] == "S3cr3t-param-0001"


def test_duplicate_action_names_both_providers(registry: Registry) -> None:
    """Registering a second, different action under a known name fails, naming both plugins."""
    other = _module("autre_plugin", "from robocore import action\n\n\n@action('essai.saisir')\n"
                                    "def saisir(ctx, montant: float) -> None:\n    pass\n")
    with pytest.raises(PluginError) as info:
        registry.add_module(other, "plugin 'autre' (autre-plugin: autre_plugin)")
    assert "essai.saisir" in str(info.value)
    assert "plugin 'essai'" in str(info.value) and "plugin 'autre'" in str(info.value)


def test_imported_action_is_not_the_importers(registry: Registry) -> None:
    """An action a plugin module merely imports from another plugin is not registered under it."""
    assert registry.get("flow.log") is None
    assert registry.names() == ["essai.connecter", "essai.saisir"]


@pytest.mark.parametrize("name", ["saisir", "a.b.c", "essai.", "essai.sai sir", "1x.y"])
def test_action_name_must_be_namespace_dot_verb(name: str) -> None:
    """An action name must look like 'namespace.verb'."""
    with pytest.raises(PluginError):
        action(name)


def test_variadic_parameters_are_refused() -> None:
    """*args and **kwargs are refused: the signature must be the schema."""
    with pytest.raises(PluginError):
        @action("essai.vague")
        def vague(ctx: Context, **options: Any) -> None:
            """Too vague."""


def test_schema_describes_every_action(registry: Registry) -> None:
    """robot_schema lists every action in `use` and each one's parameters under `with`."""
    schema = robot_schema(registry)
    step = schema["$defs"]["ActionStep"]
    assert step["properties"]["use"]["enum"] == ["essai.connecter", "essai.saisir"]
    branches = {b["if"]["properties"]["use"]["const"]: b["then"] for b in step["allOf"]}
    saisir = branches["essai.saisir"]["properties"]["with"]
    assert set(saisir["properties"]) == {"montant", "quantite", "mode", "dossier", "actif", "notes"}
    assert saisir["required"] == ["montant", "quantite"]


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(tmp_path / "home"), ROBOCORE_PLUGINS="flow,files")
    return env


@pytest.fixture(scope="module")
def cli_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The JSON Schema written by `robo schema` with the built-in plugins."""
    tmp = tmp_path_factory.mktemp("schema")
    proc = subprocess.run([str(ROBO), "schema"], capture_output=True, text=True, env=_cli_env(tmp), timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_robo_schema_lists_every_installed_action(cli_schema: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo schema` outputs a JSON Schema whose `use` enum holds every installed action, with its parameters."""
    monkeypatch.setenv("ROBOCORE_PLUGINS", "flow,files")
    monkeypatch.setattr("robocore.plugins._registry", None)
    installed = load_registry()
    step = cli_schema["$defs"]["ActionStep"]
    assert step["properties"]["use"]["enum"] == installed.names()
    branches = {b["if"]["properties"]["use"]["const"]: b["then"]["properties"]["with"] for b in step["allOf"]}
    for action_def in installed:
        assert set(branches[action_def.name]["properties"]) == set(action_def.param_names), action_def.name


def test_sample_robots_validate_against_the_schema(cli_schema: dict[str, Any]) -> None:
    """A valid robot passes the JSON Schema (checked with jsonschema); unknown actions and wrong parameters do not."""
    jsonschema = pytest.importorskip("jsonschema", reason="pip install jsonschema to check the schema")
    import yaml

    validator = jsonschema.Draft202012Validator(cli_schema)
    jsonschema.Draft202012Validator.check_schema(cli_schema)
    valid = yaml.safe_load((FIXTURES / "robots" / "valide.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(valid)) == []
    for step in ({"use": "flow.lgo"}, {"use": "flow.wait", "with": {"seconds": "abc"}},
                 {"use": "flow.wait"}, {"use": "flow.log", "with": {"message": "x", "level": "fort"}},
                 {"use": "flow.log", "with": {"message": "x", "niveau": "info"}}):
        robot = {"robot": "t", "steps": [step]}
        assert list(validator.iter_errors(robot)), step
    expression = {"robot": "t", "steps": [{"use": "flow.wait", "with": {"seconds": "{{ inputs.d }}"}}]}
    assert list(validator.iter_errors(expression)) == []


def test_unreadable_parameter_types_are_named_at_use_and_spare_the_schema(registry: Registry) -> None:
    """An action whose type hints cannot be resolved fails naming it when used; the schema keeps the others."""
    source = ("from __future__ import annotations\nfrom robocore import action\n\n"
              "@action('bancal.faire')\ndef faire(ctx, valeur: TypeAbsent) -> None:\n    'Do.'\n")
    registry.add_module(_module("bancal_plugin", source), "plugin 'bancal' (bancal: bancal_plugin)")
    schema = robot_schema(registry)
    assert "essai.saisir" in json.dumps(schema["$defs"]["ActionStep"]["allOf"])
    bancal = registry.get("bancal.faire")
    assert bancal is not None
    with pytest.raises(PluginError) as info:
        bancal.validate({"valeur": 1})
    assert "bancal.faire" in str(info.value) and "plugin 'bancal'" in str(info.value)


def test_robo_schema_describes_every_actions_result(cli_schema: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Each action's branch points (`x-result`) to its result schema in `$defs`; the `use` completion names it."""
    monkeypatch.setenv("ROBOCORE_PLUGINS", "flow,files")
    monkeypatch.setattr("robocore.plugins._registry", None)
    installed = load_registry()
    step = cli_schema["$defs"]["ActionStep"]
    branches = {b["if"]["properties"]["use"]["const"]: b["then"] for b in step["allOf"]}
    descriptions = dict(zip(step["properties"]["use"]["enum"], step["properties"]["use"]["markdownEnumDescriptions"],
                            strict=True))
    for action_def in installed:
        ref = branches[action_def.name]["x-result"]["$ref"]
        result = cli_schema["$defs"][ref.removeprefix("#/$defs/")]
        assert descriptions[action_def.name].startswith(action_def.doc)
        if action_def.result.kind == "none":
            assert result == {"type": "null"} and "Résultat : aucun" in descriptions[action_def.name]
            continue
        top = [f.name for f in action_def.result.fields if f.depth == 0]
        assert top == ["*"] or list(result["properties"]) == top, action_def.name
        assert all(p.get("description") for p in result.get("properties", {}).values()), action_def.name
        assert top == ["*"] or all(f"`{name}`" in descriptions[action_def.name] for name in top)
