"""Error types: what went wrong decides what the engine does next."""

from __future__ import annotations


class RobocoreError(Exception):
    """Base of every error Robocore raises on purpose."""


class BusinessError(RobocoreError):
    """The data of an item is wrong: the item fails and is never retried."""


class ApplicationError(RobocoreError):
    """The system failed (timeout, crash, lost connection): the item is retried."""


class RobotDefinitionError(RobocoreError):
    """A robot or schedule file is invalid; the message names file:line:column."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.path, self.line, self.column = path, line, column
        where = ":".join(str(p) for p in (path, line, column) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message


class PluginError(RobocoreError):
    """A plugin could not be loaded or conflicts with another one."""


class ExpressionError(RobocoreError):
    """An expression could not be evaluated; the message names robot, step and text."""


class StoreError(RobocoreError):
    """The store (database) is unreachable or inconsistent."""


class SettingsError(RobocoreError):
    """A ROBOCORE_* variable has a wrong value; the message names the variable."""

    def __init__(self, message: str, *, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables
