"""The store's shortcut revision (`migrate.HEAD`) is the head of the Alembic scripts."""

from alembic.config import Config
from alembic.script import ScriptDirectory

from robocore.store import migrate


def test_head_constant_is_the_last_migration() -> None:
    """A stale HEAD would make `upgrade()` skip the newest migrations on existing stores."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [migrate.HEAD]
