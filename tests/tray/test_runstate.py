"""robocore.tray.runstate: a launch from the queue to its final state, through a lost server."""

from __future__ import annotations

import pytest

from robocore.tray import runstate
from robocore.tray.runstate import InvalidTransition, Phase


def started() -> runstate.RunState:
    return runstate.sent(runstate.queued_offline("k", "saisie", "Saisie"), "r1")


def test_queued_sent_running_succeeded() -> None:
    """Queued offline → sent → running with done/total → succeeded, with the minutes saved read at the end."""
    state = runstate.queued_offline("k", "saisie", "Saisie")
    assert state.phase is Phase.QUEUED_OFFLINE and state.progress() == "Saisie\xa0: en attente du serveur"
    state = runstate.sent(state, "r1")
    assert (state.phase, state.run_id) == (Phase.SENT, "r1")
    state = runstate.observed(state, {"status": "running", "counts": {"done": 3, "pending": 7}})
    assert (state.phase, state.done, state.total) == (Phase.RUNNING, 3, 10)
    assert state.progress() == "Saisie\xa0: 3/10 éléments"
    state = runstate.observed(state, {"status": "succeeded", "counts": {"done": 10}})
    state = runstate.observed_final(state, {"counts": {"done": 10}, "minutes_saved": 42.0})
    assert (state.phase, state.done, state.minutes_saved) == (Phase.SUCCEEDED, 10, 42.0)


@pytest.mark.parametrize(("status", "phase"), [("completed_with_errors", Phase.COMPLETED_WITH_ERRORS),
                                                ("failed", Phase.FAILED), ("cancelled", Phase.CANCELLED)])
def test_final_states(status: str, phase: Phase) -> None:
    """Each final status of a run is a final phase; business errors are counted."""
    state = runstate.observed(started(), {"status": status, "counts": {"done": 8, "business_error": 2},
                                          "error": "Ligne 4 : montant absent" if status == "failed" else None})
    assert state.phase is phase and state.phase.is_final and state.business_errors == 2 and state.done == 10


def test_final_is_never_left() -> None:
    """After a final state, later events or a lost connection change nothing."""
    done = runstate.observed(started(), {"status": "succeeded", "counts": {"done": 1}})
    assert runstate.observed(done, {"status": "running"}) == done
    assert runstate.lost(done, "perdu") == done


def test_server_lost_mid_run_then_final_read_again() -> None:
    """Running → server lost → reconnecting → the run read again gives its final state."""
    state = runstate.observed(started(), {"status": "running", "counts": {"done": 1, "pending": 1}})
    state = runstate.lost(state, "La connexion au serveur a été perdue.")
    assert state.phase is Phase.RECONNECTING and "reconnexion" in state.progress()
    state = runstate.observed(state, {"status": "completed_with_errors", "counts": {"done": 1, "business_error": 1}})
    assert state.phase is Phase.COMPLETED_WITH_ERRORS and state.error is None


def test_refused_launch() -> None:
    """A queued launch the server refuses ends refused with the reason."""
    state = runstate.refused(runstate.queued_offline("k", "s", "S"), "robot non attribué")
    assert state.phase is Phase.REFUSED and state.phase.is_final and state.error == "robot non attribué"


def test_invalid_transitions() -> None:
    """Events before the launch was accepted, or a second refusal, are programming errors."""
    with pytest.raises(InvalidTransition):
        runstate.observed(runstate.queued_offline("k", "s", "S"), {"status": "running"})
    with pytest.raises(InvalidTransition):
        runstate.refused(started(), "non")


def test_unknown_status_ignored() -> None:
    """A status this tray does not know (a newer server) leaves the state as it was."""
    assert runstate.observed(started(), {"status": "paused"}) == started()


def test_a_local_launch_is_starting_not_waiting_for_a_server() -> None:
    """In attended mode (a run on this computer) the launch before it is recorded reads « en cours de
    lancement »; the same launch for a server waits for it; once sent, both are alike."""
    local = runstate.queued_offline("k", "Saisie", "Saisie", local=True)
    assert local.progress() == "Saisie\xa0: en cours de lancement"
    assert runstate.phase_text(Phase.QUEUED_OFFLINE) == "en attente du serveur"
    sent = runstate.sent(local, "r1")
    assert sent.local and sent.progress() == "Saisie\xa0: en attente"
