"""Robocore: declarative, durable RPA robots that record the hours they save.

The public API is small: `action` to declare an action, `Context` it receives,
the error types that decide retries, and `Secret`.
"""

from robocore.context import Context, RunSettings
from robocore.errors import ApplicationError, BusinessError, RobotDefinitionError
from robocore.plugins import action
from robocore.secrets import Secret

__all__ = ["action", "Context", "RunSettings", "BusinessError", "ApplicationError",
           "RobotDefinitionError", "Secret"]
__version__ = "0.1.0"
