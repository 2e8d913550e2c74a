"""The store is the only door to the database: its tables and SQLAlchemy are imported only in `robocore/store/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "robocore"
PRIVATE = "robocore.store.models"
SQL = "sqlalchemy"


def _resolved(node: ast.ImportFrom, module: str) -> str:
    """The absolute module an ImportFrom reads from (relative imports resolved against `module`)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(source: str, module: str, private: str = PRIVATE) -> list[int]:
    """Lines of `source` (the text of `module`) that import the `private` module (the store's tables by default)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = _resolved(node, module)
            names = [origin, *(f"{origin}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(name == private or name.startswith(private + ".") for name in names):
            lines.append(node.lineno)
    return lines


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def breaches_outside_the_store(private: str) -> list[str]:
    """`path:line` of every import of `private` by a robocore module outside robocore/store/."""
    breaches = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module == "robocore.store" or module.startswith("robocore.store."):
            continue
        breaches += [f"{path.relative_to(PACKAGE.parent)}:{line}"
                     for line in private_imports(path.read_text(encoding="utf-8"), module, private)]
    return breaches


@pytest.mark.parametrize("source", [
    "from robocore.store.models import runs as RUNS",
    "from robocore.store import models",
    "import robocore.store.models",
    "import robocore.store.models as tables",
    "def f():\n    from robocore.store.models import utcnow",
    "from ..store import models",
])
def test_every_import_form_of_the_tables_is_caught(source: str) -> None:
    """Each way of importing the tables (from-import, module import, nested, relative) is found."""
    assert private_imports(source, "robocore.server.routes_runs") != []


def test_public_store_imports_are_allowed() -> None:
    """Importing the Store, its rows or the statuses is not a breach."""
    source = "from robocore.store import Store, Run\nimport robocore.store\nfrom robocore import statuses\n"
    assert private_imports(source, "robocore.runs") == []


def test_no_module_outside_the_store_imports_its_tables() -> None:
    """No module of robocore outside robocore/store/ imports robocore.store.models."""
    breaches = breaches_outside_the_store(PRIVATE)
    assert breaches == [], "the store's tables are private to robocore/store/: use Store methods"


@pytest.mark.parametrize("source", [
    "import sqlalchemy",
    "import sqlalchemy.exc as sa_exc",
    "from sqlalchemy import text",
    "from sqlalchemy.exc import DBAPIError",
    "if TYPE_CHECKING:\n    from sqlalchemy import Engine",
    "def f():\n    import sqlalchemy",
])
def test_every_import_form_of_sqlalchemy_is_caught(source: str) -> None:
    """Each way of importing SQLAlchemy (module, submodule, from-import, guarded, nested) is found."""
    assert private_imports(source, "robocore.executors.celery", SQL) != []


def test_sqlalchemy_logger_and_lookalike_names_are_allowed() -> None:
    """Setting SQLAlchemy's logger level, or importing a module merely named like it, is not a breach."""
    source = ('import logging\nlogging.getLogger("sqlalchemy").setLevel(logging.WARNING)\n'
              "import sqlalchemy_utils\nfrom robocore.store import DATABASE_ERRORS\n")
    assert private_imports(source, "robocore.executors.celery", SQL) == []


def test_no_module_outside_the_store_imports_sqlalchemy() -> None:
    """No module of robocore outside robocore/store/ imports sqlalchemy: SQL lives in the store only."""
    breaches = breaches_outside_the_store(SQL)
    assert breaches == [], "SQL lives in robocore/store/: add a Store method instead of importing sqlalchemy"
