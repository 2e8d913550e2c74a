"""robocore.supervision: an attended run's supervision time, launch to end minus the agent's away time."""

from __future__ import annotations

import datetime as dt

import pytest

from robocore.supervision import AwayLog, Supervised, away_seconds, supervision_minutes

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(("away", "expected"), [
    ([], 60.0),
    ([(at(10), at(20))], 50.0),
    ([(at(10), at(20)), (at(30), at(35))], 45.0),
    ([(at(10), at(30)), (at(20), at(40))], 30.0),  # overlapping: their union, 10 → 40
    ([(at(10), at(40)), (at(15), at(20))], 30.0),  # one inside the other
    ([(at(-30), at(5))], 55.0),  # away before the launch: only the part after it counts
    ([(at(50), None)], 50.0),  # still away at the end
    ([(at(50), None), (at(55), at(58))], 50.0),
    ([(at(70), at(80))], 60.0),  # after the end
    ([(at(-10), None)], 0.0),  # away all along
])
def test_supervision_minutes(away: list[tuple[dt.datetime, dt.datetime | None]], expected: float) -> None:
    assert supervision_minutes(T0, at(60), away) == pytest.approx(expected)


def test_an_empty_or_backward_run_is_zero() -> None:
    assert supervision_minutes(at(10), at(10), []) == 0.0
    assert supervision_minutes(at(10), at(5), [(at(6), at(7))]) == 0.0
    assert away_seconds(T0, at(1), [(at(0.5), at(0.25))]) == 0.0  # an interval ending before it starts


def test_away_log_ticks_and_unticks() -> None:
    now = [at(0)]
    log = AwayLog(lambda: now[0])
    now[0] = at(5)
    log.set_away(True)
    now[0] = at(7)
    log.set_away(True)  # ticked twice: one interval, from the first tick
    assert log.away and log.intervals == [(at(5), None)]
    now[0] = at(12)
    log.set_away(False)
    log.set_away(False)
    assert not log.away and log.intervals == [(at(5), at(12))]
    now[0] = at(20)
    log.set_away(True)  # still away when the run ends at 30
    record = Supervised.of(at(1), at(30), log)
    assert record.away == ((at(5), at(12)), (at(20), at(30)))
    assert record.minutes == pytest.approx(29 - 7 - 10)
    assert record.away_json()[1] == [at(20).isoformat(), at(30).isoformat()]
    # a run launched after the first absence does not pay for it
    assert Supervised.of(at(13), at(30), log).minutes == pytest.approx(7)
    log.forget_before(at(15))
    assert log.intervals == [(at(20), None)]
