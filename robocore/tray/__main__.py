"""`python -m robocore.tray` and the packaged app `robocore-tray` (PyInstaller's entry script)."""

import sys

from robocore.cli.cmd_tray import main

if __name__ == "__main__":
    sys.exit(main())
