"""The `robo` command line (typer + rich)."""

import sys


def main() -> None:
    """Entry point of the `robo` script: for `robo run` of a browser robot, Chromium starts first (early)."""
    from robocore.cli.early import early_run_loop

    loop = early_run_loop(sys.argv)
    from robocore.cli.app import main as run_command_line

    try:
        run_command_line(loop)
    finally:
        if loop is not None:
            loop.close()


__all__ = ["main"]
