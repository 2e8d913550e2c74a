"""Demo portal: a small French administration web app that sample robots and tests fill in.

Run it with `run_portal(PortalConfig(...))` (tests: background thread, free port) or
`serve(...)` (blocking, the `robo demo portal` command). Submitted requests land in a
SQLite file that `count_demandes` / `list_demandes` read.
"""

from robocore.demo.config import DEFAULT_PASSWORD, DEFAULT_PORT, DEFAULT_USERNAME, PortalConfig
from robocore.demo.db import count_demandes, list_demandes
from robocore.demo.portal import create_app
from robocore.demo.server import run_portal, serve

__all__ = ["PortalConfig", "create_app", "run_portal", "serve", "count_demandes", "list_demandes",
           "DEFAULT_USERNAME", "DEFAULT_PASSWORD", "DEFAULT_PORT"]
