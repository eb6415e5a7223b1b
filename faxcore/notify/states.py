"""Where a notification e-mail stands, and the only moves between states.

A notification is created pending (or failed at once, when its address is
refused); a delivery attempt ends it sent, or failed once its retries are
spent. Rows change state through ``NOTIFICATIONS.sources``: the update only
applies to a row in a state the table leads from, so a row cannot be sent
twice or brought back from failed.
"""

from __future__ import annotations

import enum

from faxcore.notify.errors import NotifyError
from faxcore.transitions import StateTable


class NotificationState(enum.StrEnum):
    """One e-mail to one address for one event."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InvalidTransition(NotifyError):
    """A notification was asked to move where its state table does not lead: a bug."""


NOTIFICATIONS = StateTable("notification", {
    NotificationState.PENDING: frozenset({NotificationState.SENT, NotificationState.FAILED}),
    NotificationState.SENT: frozenset(),
    NotificationState.FAILED: frozenset(),
}, InvalidTransition)
