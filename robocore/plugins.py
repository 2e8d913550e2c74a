"""The action registry: `@action` functions, discovered through entry points."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_type_hints

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from robocore import extensions
from robocore.errors import BusinessError, PluginError
from robocore.i18n import gettext as _
from robocore.problems import describe
from robocore.secrets import Secret

if TYPE_CHECKING:
    from robocore.actiondoc import ResultDoc

ENTRY_POINT_GROUP = extensions.ACTIONS.group
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ActionDef:
    """One action: its name, the function, and the model of its parameters."""

    name: str
    func: Callable[..., Any]
    doc: str
    is_async: bool
    provider: str = "?"
    _signature: inspect.Signature | None = field(default=None, repr=False)
    _params: type[BaseModel] | None = field(default=None, repr=False)
    _result: ResultDoc | None = field(default=None, repr=False)
    _adapters: dict[str, TypeAdapter[Any]] = field(default_factory=dict, repr=False)

    @property
    def params(self) -> type[BaseModel]:
        """The model of its parameters, built when first asked for.

        Not at registration: a run uses a few of the registered actions, and building the
        model of every registered one (type hints read, pydantic model created) was ≈ 10 ms
        of each `robo run`'s start.

        Raises:
            PluginError: its type hints cannot be read (a name they use is not importable...).
        """
        if self._params is None:  # two threads at once build it twice, equal: harmless
            try:
                self._params = _params_model(self.name, self.func, self._parameters())
            except PluginError:
                raise
            except Exception as exc:  # get_type_hints: NameError, TypeError...
                raise PluginError(_("action '{action}' ({provider}): unreadable parameter types: {error}",
                                    action=self.name, provider=self.provider, error=extensions.one_line(exc))) from exc
        return self._params

    @property
    def result(self) -> ResultDoc:
        """Its documented result (the TypedDict of its return annotation), read when first asked for.

        Like `params`, not at registration: only `robo plugins`, `robo docs` and `robo schema` need it.

        Raises:
            PluginError: its return annotation cannot be read.
        """
        if self._result is None:
            from robocore import actiondoc

            try:
                self._result = actiondoc.result_doc(self.func)
            except Exception as exc:  # get_type_hints: NameError, TypeError...
                raise actiondoc.unreadable(self.name, self.provider, exc) from exc
        return self._result

    @property
    def description(self) -> str:
        """Its docstring's text before the sections (`Args:`, `Example:`...)."""
        from robocore.actiondoc import summary

        return summary(self.func.__doc__)

    @property
    def arg_docs(self) -> dict[str, str]:
        """Each parameter's description, from the docstring's `Args:` section."""
        from robocore.actiondoc import arg_descriptions

        return arg_descriptions(self.func.__doc__)

    @property
    def examples(self) -> list[str]:
        """The YAML steps of the docstring's `Example:` sections, as written."""
        from robocore.actiondoc import examples

        return examples(self.func.__doc__)

    def _parameters(self) -> list[inspect.Parameter]:
        if self._signature is None:
            self._signature = _check_signature(self.name, self.func)
        return list(self._signature.parameters.values())[1:]  # the first one is the run Context

    @property
    def param_names(self) -> list[str]:
        """Its parameters' names, in the signature's order (read without building the model)."""
        return [p.name for p in self._parameters()]

    @property
    def required(self) -> list[str]:
        """The parameters without a default, which the model requires."""
        return [p.name for p in self._parameters() if p.default is inspect.Parameter.empty]

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate rendered parameters; returns the keyword arguments to call with.

        A Secret reaches the action as a Secret only through a parameter typed to hold
        one (Secret, Any...); a plain `str` parameter gets the clear value, which the
        log processor and the engine scrub from anything written.
        """
        fields = self.params.model_fields
        values = {n: v if n not in fields or _accepts_secret(fields[n].annotation) else _reveal(v)
                  for n, v in values.items()}
        try:
            model = self.params.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(_("'{field}': {problem}", field=".".join(map(str, e["loc"])), problem=describe(e))
                                 for e in exc.errors())
            raise BusinessError(_("invalid parameter for '{action}': {problems}", action=self.name,
                                  problems=problems)) from None
        return {name: getattr(model, name) for name in fields}

    def check_literal(self, name: str, value: Any) -> None:
        """Validate one literal parameter (no expression inside) before the run starts."""
        if name not in self._adapters:
            info = self.params.model_fields[name]
            self._adapters[name] = TypeAdapter(info.annotation, config=_CONFIG)  # type: ignore[arg-type]
        self._adapters[name].validate_python(value)


_CONFIG = ConfigDict(arbitrary_types_allowed=True)


def _accepts_secret(annotation: Any) -> bool:
    if annotation is Secret or annotation is Any:
        return True
    return any(_accepts_secret(arg) for arg in get_args(annotation))


def _reveal(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


class LenientSchema(GenerateJsonSchema):
    """JSON Schema generation that leaves Python-only types open instead of failing."""

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        return {}


def params_json_schema(action_def: ActionDef) -> dict[str, Any]:
    """JSON Schema of an action's parameters (types Python-only are left open)."""
    return action_def.params.model_json_schema(schema_generator=LenientSchema)


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def _check_signature(name: str, func: Callable[..., Any]) -> inspect.Signature:
    sig = inspect.signature(func)
    for param in list(sig.parameters.values())[1:]:  # the first one is the run Context
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise PluginError(f"action '{name}': *args/**kwargs are not allowed (the signature is the schema)")
    return sig


def _params_model(name: str, func: Callable[..., Any], parameters: list[inspect.Parameter]) -> type[BaseModel]:
    hints = get_type_hints(func)
    fields: dict[str, Any] = {}
    for param in parameters:
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model_name = "Params_" + name.replace(".", "_")
    config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", defer_build=True)
    return create_model(model_name, __config__=config, **fields)


def action(name: str) -> Callable[[F], F]:
    """Declare a function as the robot action `name` ("namespace.verb").

    The first parameter receives the run Context; the others are the step's
    `with:` parameters, validated from their type hints.
    """
    if name.count(".") != 1 or not all(part.isidentifier() for part in name.split(".")):
        raise PluginError(f"action name '{name}' must look like 'namespace.verb'")

    def decorate(func: F) -> F:
        func.__robocore_action__ = ActionDef(  # type: ignore[attr-defined]
            name=name, func=func, doc=_first_line(func.__doc__), is_async=inspect.iscoroutinefunction(func),
            _signature=_check_signature(name, func))  # *args refused at import; the model is built on first use
        return func

    return decorate


def actions_of(module: ModuleType) -> list[ActionDef]:
    """The actions declared in a module (or its submodules), in definition order.

    An action merely imported from another plugin (`from robocore.actions.flow import log`)
    is not the importer's: counting it would credit that plugin as its provider.
    """
    name = module.__name__
    return [v.__robocore_action__ for v in vars(module).values()
            if callable(v) and hasattr(v, "__robocore_action__")
            and (v.__module__ == name or str(v.__module__).startswith(name + "."))]


class Registry:
    """Every available action by name; built-ins come through the same entry points."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionDef] = {}
        self.providers: list[str] = []  # the plugins whose actions were added
        self.broken: dict[str, str] = {}  # provider → why it could not be loaded

    def add(self, action_def: ActionDef) -> None:
        existing = self._actions.get(action_def.name)
        if existing and existing.func is not action_def.func:
            raise PluginError(
                f"action '{action_def.name}' is provided twice: by {existing.provider} "
                f"and by {action_def.provider}")
        self._actions[action_def.name] = action_def

    def add_module(self, module: ModuleType, provider: str) -> None:
        self.providers.append(provider)
        for action_def in actions_of(module):
            action_def.provider = provider
            self.add(action_def)

    def get(self, name: str) -> ActionDef | None:
        return self._actions.get(name)

    def names(self) -> list[str]:
        return sorted(self._actions)

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
        return close[0] if close else None

    def __iter__(self) -> Iterator[ActionDef]:
        return iter(self._actions[n] for n in self.names())


_registry: Registry | None = None


def load_registry(refresh: bool = False) -> Registry:
    """Discover every plugin once per process (ROBOCORE_PLUGINS limits which, comma-separated)."""
    global _registry
    if _registry is not None and not refresh:
        return _registry
    from robocore.settings import get_settings  # lazily: `robo --help` imports this module

    only = set(get_settings().plugins)
    if refresh:
        extensions.forget(extensions.ACTIONS)
    loaded = extensions.load(extensions.ACTIONS, only=only or None)
    registry = Registry()
    for broken in loaded.broken.values():  # reported and skipped: robots that use it fail at load, naming it
        registry.broken[broken.label] = broken.error
    for plugin in loaded:
        registry.add_module(plugin.obj, plugin.label)
    _registry = registry
    return registry


def check_param(action_def: ActionDef, name: str, value: Any) -> str | None:
    """Return an error message for a literal parameter, or None when it is valid."""
    try:
        action_def.check_literal(name, value)
    except ValidationError as exc:
        err = exc.errors()[0]
        return _("parameter '{name}' of '{action}': {problem} (got {value})", name=name, action=action_def.name,
                 problem=describe(err), value=repr(value))
    return None
