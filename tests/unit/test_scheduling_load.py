"""Schedule files: valid ones load; every mistake is reported at file:line:column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from robocore.errors import RobotDefinitionError
from robocore.i18n import use_language
from robocore.scheduling.holidays import holiday_name, working_day_index
from robocore.scheduling.load import load_all, load_schedule
from robocore.scheduling.spec import ScheduleSpec
from robocore.scheduling.triggers import build_trigger, next_times, parse_cron

ROBOT = """\
robot: export-mensuel
inputs:
  mois:
    type: text
    required: true
  seuil:
    type: number
    default: 10
  fichier:
    type: file
    default: donnees.csv
steps:
  - use: flow.log
    with: {message: "{{ inputs.mois }}"}
"""


@pytest.fixture
def robots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "robots" / "export-mensuel"
    folder.mkdir(parents=True)
    (folder / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    (folder / "donnees.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(tmp_path / "robots"))
    return tmp_path / "robots"


def _write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    folder = tmp_path / "schedules"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> RobotDefinitionError:
    with pytest.raises(RobotDefinitionError) as info:
        load_schedule(path)
    return info.value


def test_valid_file_loads_with_defaults(tmp_path: Path, robots: Path) -> None:
    """A valid file gives its spec: Europe/Paris, misfire skip and enabled by default; relative file inputs work."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs:\n  mois: '2026-01'\n"
                            "  fichier: donnees.csv\ncron: '0 8 * * 1-5'\n")
    spec = load_schedule(path).spec
    assert (spec.schedule, spec.robot, spec.timezone, spec.misfire, spec.enabled) == (
        "export", "export-mensuel", "Europe/Paris", "skip", True)
    upcoming = next_times(build_trigger(spec), dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC), 2)
    assert [t.isoformat() for t in upcoming] == ["2026-03-09T08:00:00+01:00", "2026-03-10T08:00:00+01:00"]


def test_unknown_robot_is_positioned_with_a_suggestion(tmp_path: Path, robots: Path) -> None:
    """An unknown robot is reported at the robot value, suggesting the closest robot name."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensual\ninterval: {minutes: 30}\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (2, 8)
    assert "vouliez-vous dire 'export-mensuel'" in str(exc) and str(exc).startswith(f"{path}:2:8:")


def test_bad_cron_is_positioned(tmp_path: Path, robots: Path) -> None:
    """A cron expression with a wrong field count or value is reported at the cron value."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\n"
                            "cron: '61 8 * * *'\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (4, 7) and "cron invalide" in str(exc)
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\ncron: '0 8 *'\n")
    assert "3 champs au lieu de 5" in str(_error(path))
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\ncron: '0 8 * * 9'\n")
    assert "jour de semaine invalide" in str(_error(path))


def test_unknown_input_is_positioned_with_a_suggestion(tmp_path: Path, robots: Path) -> None:
    """An input the robot does not declare is reported at its key, with the closest declared name."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs:\n  mois: '2026-01'\n  seul: 3\n"
                            "cron: '0 8 * * *'\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (5, 3)
    assert "entrée inconnue 'seul'" in str(exc) and "vouliez-vous dire 'seuil'" in str(exc)


def test_bad_input_value_is_positioned(tmp_path: Path, robots: Path) -> None:
    """A value of the wrong type, or a missing file, is reported at the value."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs:\n  mois: '2026-01'\n"
                            "  seuil: beaucoup\n  fichier: absent.csv\ncron: '0 8 * * *'\n")
    message = str(_error(path))
    assert f"{path}:5:10:" in message and "nombre attendu" in message
    assert f"{path}:6:12:" in message and "fichier introuvable" in message


def test_missing_required_input_is_positioned(tmp_path: Path, robots: Path) -> None:
    """A required input without a default must be given by the schedule."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs:\n  seuil: 3\ncron: '0 8 * * *'\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (3, 1) and "entrée obligatoire manquante" in str(exc) and "(mois)" in str(exc)


def test_cron_and_interval_together_are_refused(tmp_path: Path, robots: Path) -> None:
    """cron and interval exclude each other: the error points at the interval key; neither is an error too."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\n"
                            "cron: '0 8 * * *'\ninterval: {minutes: 5}\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (5, 1) and "'cron' et 'interval' s'excluent" in str(exc)
    with use_language("en"):
        assert "'cron' and 'interval' exclude each other: keep only one" in str(_error(path))
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\n")
    assert "cron" in str(_error(path)) and "interval" in str(_error(path))


def test_unknown_keys_bad_enums_and_time_zone(tmp_path: Path, robots: Path) -> None:
    """Typos in keys are suggested; misfire, time zone and interval units are checked at their place."""
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\n"
                            "interval: {minute: 5}\nmisfire: toujours\ntimezon: Europe/Paris\n")
    message = str(_error(path))
    assert f"{path}:4:12:" in message and "vouliez-vous dire 'minutes'" in message
    assert f"{path}:5:10:" in message and "'skip' or 'run_once'" in message
    assert f"{path}:6:1:" in message and "vouliez-vous dire 'timezone'" in message
    path = _write(tmp_path, "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\n"
                            "interval: {minutes: 5}\ntimezone: Europe/Pariss\n")
    exc = _error(path)
    assert (exc.line, exc.column) == (5, 11) and "fuseau horaire inconnu" in str(exc)


def test_duplicate_names_and_invalid_files_are_reported_by_load_all(tmp_path: Path, robots: Path) -> None:
    """load_all keeps the valid schedules and reports each invalid file (a duplicate name included)."""
    good = "schedule: export\nrobot: export-mensuel\ninputs: {mois: '2026-01'}\ninterval: {hours: 1}\n"
    _write(tmp_path, good, "a.yaml")
    _write(tmp_path, good, "b.yaml")
    _write(tmp_path, "schedule: [\n", "c.yaml")
    loaded, bad = load_all(tmp_path / "schedules")
    assert [s.name for s in loaded] == ["export"]
    assert sorted(p.name for p in bad) == ["b.yaml", "c.yaml"]
    assert "en double" in str(bad[tmp_path / "schedules" / "b.yaml"])


def test_crontab_weekdays_use_standard_numbering() -> None:
    """Weekday numbers follow crontab (0 and 7 = Sunday, 1 = Monday), not APScheduler 3's 0 = Monday."""
    trigger = parse_cron("0 9 * * 0", "Europe/Paris")
    first = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 2, tzinfo=ZoneInfo("Europe/Paris")))
    assert first is not None and first.date() == dt.date(2026, 3, 8) and first.weekday() == 6
    trigger = parse_cron("0 9 * * 1-5", "Europe/Paris")
    first = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 7, tzinfo=ZoneInfo("Europe/Paris")))
    assert first is not None and first.date() == dt.date(2026, 3, 9)


def test_first_working_day_skips_weekends_and_french_holidays() -> None:
    """working_day_of_month: 1 with skip_public_holidays: fr fires on the first working day (1 Jan, 1 May off)."""
    spec = ScheduleSpec(schedule="m", robot="r", cron="30 7 * * *", working_day_of_month=1,
                        skip_public_holidays="fr")
    times = next_times(build_trigger(spec), dt.datetime(2025, 12, 15, tzinfo=dt.UTC), 6)
    assert [t.date().isoformat() for t in times] == ["2026-01-02", "2026-02-02", "2026-03-02", "2026-04-01",
                                                     "2026-05-04", "2026-06-01"]
    assert all((t.hour, t.minute) == (7, 30) for t in times)
    assert holiday_name(dt.date(2026, 7, 14), "fr") and holiday_name(dt.date(2026, 7, 15), "fr") is None
    assert working_day_index(dt.date(2026, 5, 4), "fr") == 1 and working_day_index(dt.date(2026, 5, 4), None) == 2


def test_sample_schedule_of_the_repository_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """schedules/rapprochement-mensuel.yaml validates against robots/rapprochement-paiements."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(root / "robots"))
    spec = load_schedule(root / "schedules" / "rapprochement-mensuel.yaml").spec
    assert spec.robot == "rapprochement-paiements" and spec.misfire == "run_once"
    assert spec.skip_public_holidays == "fr" and spec.working_day_of_month == 1
