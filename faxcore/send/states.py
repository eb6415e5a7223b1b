"""Where a send job and each of its attempts stand, and the only moves between them.

As in h11's ``_state.py``, the queue changes a state only through ``JOBS``
and ``ATTEMPTS``; a move their tables do not hold raises
``InvalidTransition``. A job is queued until a worker claims it (sending);
an attempt ends it sent, failed, queued again for a retry, or cancelled;
sent, failed and cancelled are final. An attempt is sending until it is
recorded sent, failed, cancelled (its job was) or interrupted (its lease
ran out).
"""

from __future__ import annotations

import enum

from faxcore.send.errors import InvalidTransition
from faxcore.transitions import StateTable


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
JOBS = StateTable("send job", {
    JobState.QUEUED: frozenset({JobState.SENDING, JobState.CANCELLED}),
    JobState.SENDING: frozenset({JobState.SENT, JobState.FAILED, JobState.QUEUED,
                                 JobState.CANCELLED}),
    JobState.SENT: _FINAL,
    JobState.FAILED: _FINAL,
    JobState.CANCELLED: _FINAL,
}, InvalidTransition)
ATTEMPTS = StateTable("send attempt", {
    AttemptOutcome.SENDING: frozenset({AttemptOutcome.SENT, AttemptOutcome.FAILED,
                                       AttemptOutcome.CANCELLED, AttemptOutcome.INTERRUPTED}),
    AttemptOutcome.SENT: frozenset(),
    AttemptOutcome.FAILED: frozenset(),
    AttemptOutcome.CANCELLED: frozenset(),
    AttemptOutcome.INTERRUPTED: frozenset(),
}, InvalidTransition)
# A job in one of these may still be dialled; its batch's document is kept.
OPEN_STATES: frozenset[JobState] = JOBS.open_states()

