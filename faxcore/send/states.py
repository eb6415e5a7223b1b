"""Where a send job and each of its attempts stand, and the only moves between them.

As in h11's ``_state.py``, the queue changes a state only through
``job_move`` and ``attempt_move``, which read the tables below; a move the
table does not hold raises ``InvalidTransition``. A job is queued until a
worker claims it (sending); an attempt ends it sent, failed, queued again for
a retry, or cancelled; sent, failed and cancelled are final. An attempt is
sending until it is recorded sent, failed, cancelled (its job was) or
interrupted (its lease ran out).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from faxcore.send.errors import InvalidTransition


class JobState(enum.StrEnum):
    """A send job (one recipient of a send)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AttemptOutcome(enum.StrEnum):
    """One attempt (one call) of a send job."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


_FINAL: frozenset[JobState] = frozenset()
JOB_MOVES: Mapping[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SENDING, JobState.CANCELLED}),
    JobState.SENDING: frozenset({JobState.SENT, JobState.FAILED, JobState.QUEUED,
                                 JobState.CANCELLED}),
    JobState.SENT: _FINAL,
    JobState.FAILED: _FINAL,
    JobState.CANCELLED: _FINAL,
}
ATTEMPT_MOVES: Mapping[AttemptOutcome, frozenset[AttemptOutcome]] = {
    AttemptOutcome.SENDING: frozenset({AttemptOutcome.SENT, AttemptOutcome.FAILED,
                                       AttemptOutcome.CANCELLED, AttemptOutcome.INTERRUPTED}),
    AttemptOutcome.SENT: frozenset(),
    AttemptOutcome.FAILED: frozenset(),
    AttemptOutcome.CANCELLED: frozenset(),
    AttemptOutcome.INTERRUPTED: frozenset(),
}
# A job in one of these may still be dialled; its batch's document is kept.
OPEN_STATES: frozenset[JobState] = frozenset({JobState.QUEUED, JobState.SENDING})


def job_move(current: str, to: JobState) -> JobState:
    """``to``, when the table leads from ``current`` to it."""
    if to not in JOB_MOVES[JobState(current)]:
        raise InvalidTransition(f"send job cannot go from {current} to {to}")
    return to


def attempt_move(current: str, to: AttemptOutcome) -> AttemptOutcome:
    """``to``, when the table leads from ``current`` to it."""
    if to not in ATTEMPT_MOVES[AttemptOutcome(current)]:
        raise InvalidTransition(f"send attempt cannot go from {current} to {to}")
    return to
