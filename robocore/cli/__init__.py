"""The `robo` command line (typer + rich)."""

from robocore.cli.app import main

__all__ = ["main"]
