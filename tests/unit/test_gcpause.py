"""The collector pause used while tables are built: nested, threaded, always restored."""

from __future__ import annotations

import gc
import threading

from robocore.tables.gcpause import paused_gc, release_frozen


def test_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what was alive is out of the collector's way
    release_frozen()
    assert gc.get_freeze_count() == 0


def test_pause_restores_on_error_and_keeps_a_disabled_collector_disabled() -> None:
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        release_frozen()


def test_overlapping_pauses_in_threads() -> None:
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with paused_gc():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    inside.wait(5)
    with paused_gc():
        pass
    assert not gc.isenabled()  # the thread's pause is still open
    leave.set()
    thread.join(5)
    assert gc.isenabled()
    release_frozen()
