"""One loader for every kind of extension: a broken one is reported by name and skipped; needing it fails naming it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from robocore import extensions
from robocore.errors import PluginError, RobotDefinitionError
from robocore.executors.base import get_executor
from robocore.loader import parse_robot
from robocore.plugins import load_registry
from robocore.secrets import default_providers, resolve
from tests.fake_dist import write_distribution

MISSING = "ModuleNotFoundError: No module named 'dependance_absente_du_test'"
BROKEN_MODULE = "import dependance_absente_du_test  # noqa: F401\n"
ACTIONS_MODULE = '''
from robocore import Context, action


@action("bon.faire")
def faire(ctx: Context, fois: int = 1) -> int:
    """Do it."""
    return fois
'''
EXECUTORS_MODULE = '''
class BonExecutor:
    name = "bon"

    def submit(self, run_id, queue=None):
        pass

    def shutdown(self, wait=True):
        pass


class FragileExecutor:
    name = "fragile"

    def __init__(self):
        raise RuntimeError("broker URL missing\\nsecond line of the message")
'''
PROVIDERS_MODULE = '''
class Coffre:
    def get(self, name, field):
        return "valeur-du-coffre-4242" if (name, field) == ("coffre", "password") else None
'''


@pytest.fixture()
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for fake distributions; what was loaded from it is forgotten afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr("robocore.plugins._registry", None)
    monkeypatch.setattr("robocore.executors.base._instances", {})
    monkeypatch.setenv("ROBOCORE_PLUGINS", "bon,casse")
    monkeypatch.delenv("ROBOCORE_SECRETS_FILE", raising=False)
    extensions.forget()
    yield root
    extensions.forget()
    for name in [n for n, m in sys.modules.items() if str(getattr(m, "__file__", "")).startswith(str(root))]:
        del sys.modules[name]


@pytest.fixture()
def installed(site: Path) -> Path:
    """A distribution `fausses-extensions` with a good and a broken extension of each kind."""
    return write_distribution(site, "fausses-extensions", {
        "robocore.plugins": {"bon": "bon_actions", "casse": "casse_actions"},
        "robocore.executors": {"bon": "t_executors:BonExecutor", "fragile": "t_executors:FragileExecutor",
                               "casse": "casse_executors:Executor", "espion": "espion_executors:Executor"},
        "robocore.secret_providers": {"coffre": "t_providers:Coffre", "casse": "casse_providers:Provider"},
    }, {"bon_actions": ACTIONS_MODULE, "casse_actions": BROKEN_MODULE, "t_executors": EXECUTORS_MODULE,
        "casse_executors": BROKEN_MODULE, "espion_executors": EXECUTORS_MODULE, "t_providers": PROVIDERS_MODULE,
        "casse_providers": BROKEN_MODULE})


def test_broken_action_plugin_is_reported_and_skipped(installed: Path) -> None:
    """A plugin whose import fails is listed as broken (name, distribution, entry point, error); the others load."""
    registry = load_registry()
    assert registry.get("bon.faire") is not None
    assert registry.broken == {"plugin 'casse' (fausses-extensions: casse_actions)": MISSING}


def test_robot_using_a_broken_plugin_fails_at_load_naming_it(installed: Path) -> None:
    """A robot calling an action of a broken plugin is refused at load, naming the plugin and its error."""
    robot = "robot: t\nsteps:\n  - use: casse.faire\n"
    with pytest.raises(RobotDefinitionError) as info:
        parse_robot(robot, "robot.yaml", load_registry())
    message = str(info.value)
    assert "action inconnue" in message and "extension non chargée" in message
    assert "plugin 'casse' (fausses-extensions: casse_actions)" in message and MISSING in message


def test_broken_executor_fails_naming_it(installed: Path) -> None:
    """Asking for the executor ROBOCORE_EXECUTOR names, when it cannot be imported, fails with its report."""
    with pytest.raises(PluginError) as info:
        get_executor("casse")
    assert str(info.value).endswith(f"executor 'casse' (fausses-extensions: casse_executors:Executor): {MISSING}")


def test_executor_whose_constructor_fails_is_reported_in_one_line(installed: Path) -> None:
    """An executor whose creation raises fails with the same report, the error's first line only."""
    with pytest.raises(PluginError) as info:
        get_executor("fragile")
    assert "executor 'fragile' (fausses-extensions: t_executors:FragileExecutor)" in str(info.value)
    assert str(info.value).endswith("RuntimeError: broker URL missing")


def test_only_the_named_executor_is_imported(installed: Path) -> None:
    """Getting one executor imports its entry point alone: a broken or unused one elsewhere costs nothing."""
    executor = get_executor("bon")
    assert executor.name == "bon" and get_executor("bon") is executor
    assert "espion_executors" not in sys.modules


def test_unknown_executor_lists_the_available_ones(installed: Path) -> None:
    """An executor name no entry point declares fails listing the declared names, broken ones included."""
    with pytest.raises(PluginError) as info:
        get_executor("inexistant")
    assert "exécuteur inconnu" in str(info.value)
    assert "bon, casse, celery, espion, fragile, local" in str(info.value)


def test_broken_secret_provider_is_skipped(installed: Path, tmp_path: Path) -> None:
    """A secret provider that fails to load does not stop a run whose secrets another provider holds."""
    secrets = resolve({"coffre": ["password"]}, default_providers(tmp_path), "robot.yaml")
    assert secrets["coffre"]["password"].reveal() == "valeur-du-coffre-4242"


def test_secret_not_found_names_the_broken_provider(installed: Path, tmp_path: Path) -> None:
    """A secret no loaded provider holds fails naming the provider that could not be loaded, and its error."""
    with pytest.raises(RobotDefinitionError) as info:
        resolve({"ailleurs": ["token"]}, default_providers(tmp_path), "robot.yaml")
    message = str(info.value)
    assert "secret 'ailleurs.token'" in message and "introuvable" in message
    assert f"secret provider 'casse' (fausses-extensions: casse_providers:Provider): {MISSING}" in message


def test_each_entry_point_is_loaded_once_per_process(installed: Path) -> None:
    """Loading a kind twice tries a broken extension once: one warning, the same report."""
    with capture_logs() as logs:
        first = extensions.load(extensions.SECRET_PROVIDERS)
        second = extensions.load(extensions.SECRET_PROVIDERS)
    assert first.broken["casse"] is second.broken["casse"]
    assert first.extensions["coffre"] is second.extensions["coffre"]
    failed = [e for e in logs if e["event"] == "extension.load_failed"]
    assert failed == [{"event": "extension.load_failed", "log_level": "warning", "kind": "secret provider",
                       "extension": "casse", "dist": "fausses-extensions",
                       "entry_point": "casse_providers:Provider", "error": MISSING}]


def test_object_of_the_wrong_kind_is_broken(site: Path) -> None:
    """An entry point that loads something its kind cannot use (a class for actions) is reported and skipped."""
    write_distribution(site, "mauvais-type", {"robocore.plugins": {"bon": "t_executors:BonExecutor"}},
                       {"t_executors": EXECUTORS_MODULE})
    loaded = extensions.load(extensions.ACTIONS, only={"bon"})
    assert loaded.broken["bon"].error == "TypeError: expected a module of actions, got type"
    assert list(loaded) == []


def test_same_name_from_two_distributions_fails_naming_both(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two distributions declaring one executor name: neither silently wins, asking for it names both."""
    for dist in ("seconde", "premiere"):  # each prepended: premiere ends first on sys.path
        write_distribution(site / dist, dist, {"robocore.executors": {"double": "t_executors:BonExecutor"}},
                           {"t_executors": EXECUTORS_MODULE} if dist == "premiere" else {})
        monkeypatch.syspath_prepend(str(site / dist))
    with pytest.raises(PluginError) as info:
        get_executor("double")
    assert "executor 'double' (seconde: t_executors:BonExecutor)" in str(info.value)
    assert "already provided by executor 'double' (premiere: t_executors:BonExecutor)" in str(info.value)
