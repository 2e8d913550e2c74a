"""Robocore: declarative, durable RPA robots that record the hours they save.

The public API is small: `action` to declare an action, `Context` it receives,
the error types that decide retries, and `Secret`. They are imported when first used
(PEP 562): `robo run` starts Chromium before anything heavy is imported (robocore.cli.early).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from robocore.context import Context, RunSettings
    from robocore.errors import ApplicationError, BusinessError, RobotDefinitionError
    from robocore.plugins import action
    from robocore.secrets import Secret

_PUBLIC = {"action": "robocore.plugins", "Context": "robocore.context", "RunSettings": "robocore.context",
           "BusinessError": "robocore.errors", "ApplicationError": "robocore.errors",
           "RobotDefinitionError": "robocore.errors", "Secret": "robocore.secrets"}
__all__ = ["action", "Context", "RunSettings", "BusinessError", "ApplicationError",
           "RobotDefinitionError", "Secret"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'robocore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
