"""The send job's and attempt's state tables: every move the queue makes, none other."""

from __future__ import annotations

import pytest

from faxcore.send.errors import InvalidTransition
from faxcore.send.states import ATTEMPTS, JOBS, OPEN_STATES, AttemptOutcome, JobState


def test_every_state_has_a_row_and_only_open_jobs_move() -> None:
    assert {JobState.QUEUED, JobState.SENDING} == OPEN_STATES
    assert ATTEMPTS.open_states() == {AttemptOutcome.SENDING}


@pytest.mark.parametrize(("current", "to"), [
    ("queued", JobState.SENDING), ("queued", JobState.CANCELLED),
    ("sending", JobState.SENT), ("sending", JobState.FAILED),
    ("sending", JobState.QUEUED), ("sending", JobState.CANCELLED),
])
def test_the_queue_s_moves_are_allowed(current: str, to: JobState) -> None:
    assert JOBS.move(current, to) is to


@pytest.mark.parametrize(("current", "to"), [
    ("sent", JobState.QUEUED), ("failed", JobState.SENDING), ("cancelled", JobState.SENT),
    ("queued", JobState.SENT), ("queued", JobState.FAILED),
])
def test_a_move_the_table_does_not_hold_is_refused(current: str, to: JobState) -> None:
    with pytest.raises(InvalidTransition, match=f"from {current} to {to}"):
        JOBS.move(current, to)


def test_an_attempt_ends_once() -> None:
    assert ATTEMPTS.move("sending", AttemptOutcome.INTERRUPTED) is AttemptOutcome.INTERRUPTED
    with pytest.raises(InvalidTransition):
        ATTEMPTS.move("failed", AttemptOutcome.CANCELLED)
