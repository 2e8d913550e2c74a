"""`python -m robocore.tray` and the packaged app `robocore-tray` (PyInstaller's entry script)."""

import multiprocessing
import sys

from robocore.cli.cmd_tray import main

if __name__ == "__main__":
    # attended mode runs robots in worker processes (robocore.executors.local): a frozen app started again as
    # a worker (spawn on Windows and macOS) must run the worker, not a second tray
    multiprocessing.freeze_support()
    sys.exit(main())
