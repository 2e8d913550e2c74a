"""Schedule files → validated specs, with errors at file:line:column (robot, inputs, cron checked)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from robocore import settings
from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _
from robocore.i18n import pgettext
from robocore.inputs import InputError, _coerce, resolve_inputs
from robocore.loader import LoadedRobot, _Checker, _suggest, find_robot, load_robot
from robocore.scheduling.spec import ScheduleSpec
from robocore.scheduling.triggers import build_trigger, next_times, parse_cron
from robocore.yamlsafe import load_yaml

_KEYS = sorted(ScheduleSpec.model_fields)


@dataclass(frozen=True)
class LoadedSchedule:
    """A validated schedule and the file it came from."""

    spec: ScheduleSpec
    path: Path

    @property
    def name(self) -> str:
        return self.spec.schedule


def _pydantic_errors(exc: ValidationError, data: dict[str, Any], checker: _Checker) -> None:
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            choices = _KEYS if len(loc) == 1 else ["weeks", "days", "hours", "minutes", "seconds"]
            checker.add(loc, _("unknown key '{key}'{hint}", key=loc[-1], hint=_suggest(str(loc[-1]), choices)),
                        key=True)
        elif err["type"] == "missing":
            checker.add(loc[:-1], _("missing key '{key}'", key=loc[-1]), key=bool(loc[:-1]))
        elif loc == ("schedule",) and err["type"] == "string_pattern_mismatch":
            checker.add(loc, _("invalid schedule name (letters, digits, - _ . ; 100 characters at most)"))
        else:
            where = ".".join(map(str, loc)) or _("schedule")
            checker.add(loc, _("'{field}': {problem}", field=where, problem=err["msg"]))


def _check_trigger(spec: ScheduleSpec, data: dict[str, Any], checker: _Checker) -> None:
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        checker.add(("timezone",), _("unknown time zone '{zone}' (e.g. Europe/Paris)", zone=spec.timezone))
        return
    if spec.cron is not None and spec.interval is not None:
        checker.add(("interval",), _("'cron' and 'interval' exclude each other: keep only one"), key=True)
        return
    if spec.cron is None and spec.interval is None:
        checker.add((), _("a 'cron' or an 'interval' key is required"))
        return
    if spec.working_day_of_month and spec.cron is None:
        checker.add(("working_day_of_month",), _("'working_day_of_month' needs a 'cron'"), key=True)
        return
    if spec.cron is not None:
        try:
            parse_cron(spec.cron, spec.timezone)
        except ValueError as exc:
            checker.add(("cron",), _("invalid cron expression '{cron}': {error}", cron=spec.cron, error=exc))
            return
    now = dt.datetime.now(dt.UTC)
    if not next_times(build_trigger(spec), now, 1):
        checker.add(("cron",) if "cron" in data else ("interval",),
                    _("this schedule never fires"))


def _check_robot(spec: ScheduleSpec, checker: _Checker, robots_dir: Path) -> LoadedRobot | None:
    try:
        return load_robot(find_robot(spec.robot, robots_dir))
    except RobotDefinitionError as exc:
        checker.add(("robot",), exc.message if exc.path is None else _("invalid robot: {error}", error=exc))
        return None


def _check_inputs(spec: ScheduleSpec, robot: LoadedRobot, checker: _Checker) -> None:
    declared = robot.spec.inputs
    before = len(checker.errors)
    for name, value in spec.inputs.items():
        if name not in declared:
            hint = _suggest(name, list(declared))
            checker.add(("inputs", name), _("unknown input '{name}' for the robot '{robot}'{hint} (inputs: {inputs})",
                                            name=name, robot=robot.spec.robot, hint=hint,
                                            inputs=", ".join(declared) or pgettext("inputs", "none")), key=True)
        elif value is not None and value != "":
            try:
                _coerce(name, declared[name], value, robot.folder)
            except InputError as exc:
                checker.add(("inputs", name), exc.message)
    for name, input_spec in declared.items():
        if input_spec.required and input_spec.default in (None, "") and spec.inputs.get(name) in (None, ""):
            where = ("inputs",) if "inputs" in spec.model_fields_set else ("robot",)
            checker.add(where, _("missing input “{label}” ({name}) for the robot '{robot}'",
                                 label=input_spec.label or name, name=name, robot=robot.spec.robot), key=True)
    if len(checker.errors) == before:
        try:
            resolve_inputs(robot.spec, spec.inputs, robot.folder)
        except InputError as exc:  # a case the checks above do not word
            checker.add(("inputs",), exc.message, key=True)


def parse_schedule(text: str, source: str, robots_dir: Path | None = None) -> ScheduleSpec:
    """Validate schedule text; raises RobotDefinitionError naming file:line:column."""
    data, positions = load_yaml(text, source)
    checker = _Checker(source, positions)
    if not isinstance(data, dict):
        checker.add((), _("a schedule is a mapping (schedule, robot, cron...)"))
        checker.raise_if_any()
    try:
        spec = ScheduleSpec.model_validate(data)
    except ValidationError as exc:
        _pydantic_errors(exc, data, checker)
        checker.raise_if_any()
        raise
    _check_trigger(spec, data, checker)
    robot = _check_robot(spec, checker, robots_dir or settings.robots_dir())
    if robot is not None:
        _check_inputs(spec, robot, checker)
    checker.raise_if_any()
    return spec


def load_schedule(path: str | Path, robots_dir: Path | None = None) -> LoadedSchedule:
    """Read and validate one schedule file."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RobotDefinitionError(_("cannot read the file: {reason}", reason=exc.strerror), path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise RobotDefinitionError(_("invalid encoding (UTF-8 expected) at byte {offset}", offset=exc.start),
                                   path=str(p), line=1, column=1) from None
    return LoadedSchedule(spec=parse_schedule(text, str(p), robots_dir), path=p)


def schedule_files(schedules_dir: Path) -> list[Path]:
    """The schedule files of a folder (*.yaml, *.yml), sorted."""
    if not schedules_dir.is_dir():
        return []
    return sorted(p for p in schedules_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_all(schedules_dir: Path, robots_dir: Path | None = None) -> tuple[list[LoadedSchedule],
                                                                            dict[Path, RobotDefinitionError]]:
    """Every valid schedule of a folder, and the error of each invalid file (duplicate names too)."""
    good: dict[str, LoadedSchedule] = {}
    bad: dict[Path, RobotDefinitionError] = {}
    for path in schedule_files(schedules_dir):
        try:
            loaded = load_schedule(path, robots_dir)
        except RobotDefinitionError as exc:
            bad[path] = exc
            continue
        if loaded.name in good:
            bad[path] = RobotDefinitionError(_("duplicate schedule name '{name}' (already in {file})", name=loaded.name,
                                               file=good[loaded.name].path.name),
                                             path=str(path), line=1, column=1)
            continue
        good[loaded.name] = loaded
    return list(good.values()), bad
