"""Where a notification e-mail stands, and the only moves between states.

A notification is created pending (or failed at once, when its address is
refused); a delivery attempt ends it sent, or failed once its retries are
spent. Rows change state through ``finishing_from``: the update only
applies to a row in a state the table leads from, so a row cannot be sent
twice or brought back from failed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from faxcore.notify.errors import NotifyError


class NotificationState(enum.StrEnum):
    """One e-mail to one address for one event."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


MOVES: Mapping[NotificationState, frozenset[NotificationState]] = {
    NotificationState.PENDING: frozenset({NotificationState.SENT, NotificationState.FAILED}),
    NotificationState.SENT: frozenset(),
    NotificationState.FAILED: frozenset(),
}


class InvalidTransition(NotifyError):
    """A notification was asked to move where its state table does not lead: a bug."""


def finishing_from(to: NotificationState) -> frozenset[NotificationState]:
    """The states a row may be in to move to ``to``; refuses a state nothing leads to."""
    sources = frozenset(state for state, moves in MOVES.items() if to in moves)
    if not sources:
        raise InvalidTransition(f"no notification moves to {to}")
    return sources
