"""The README's main job: both sample robots on the embedded default, then the hours saved.

Starts the demo portal on a free port, runs `saisie-demandes` against it and
`rapprochement-paiements` on its sample workbooks with the `robo` CLI (SQLite store,
local executor), stops the portal, and prints `robo report`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from robocore import settings
from robocore.demo import DEFAULT_PASSWORD, DEFAULT_USERNAME, PortalConfig, run_portal
from robocore.i18n import gettext as _

ROBOTS = Path(__file__).resolve().parents[2] / "robots"


def _robo(*args: str, env: dict[str, str]) -> int:
    robo = Path(sys.executable).parent / "robo"
    print(f"\n$ robo {' '.join(args)}", flush=True)
    return subprocess.call([str(robo), *args], env=env)


def main() -> int:
    """Run the sample robots and print the hours they saved; returns a process exit code."""
    env = dict(os.environ)
    # The demo portal's account is public demo data; real robots get secrets from the
    # environment or the owner-only secrets file, never from a robot file.
    env.setdefault("ROBOCORE_SECRET_COMPTE_PORTAIL_USERNAME", DEFAULT_USERNAME)
    env.setdefault("ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD", DEFAULT_PASSWORD)
    env.setdefault("ROBOCORE_ROBOTS", str(ROBOTS))
    config = PortalConfig.demo(data_dir=settings.home() / "demo-portail")
    codes = []
    with run_portal(config) as url:
        print(_("Demo portal: {url} (data: {database})", url=url, database=config.database), flush=True)
        codes.append(_robo("run", "saisie-demandes", "--input", f"portail={url}", env=env))
    codes.append(_robo("run", "rapprochement-paiements", env=env))
    codes.append(_robo("report", "--by", "process", env=env))
    print("\n" + _("Store: {url} — robo runs, robo logs RUN_ID", url=settings.database_url()), flush=True)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
