"""The moves of a received fax (R2): receiving ends received, partial or failed, once.

``FaxStore`` settles a fax only through ``FAXES``; a second settlement of
the same fax (a late handler after a restart settled it, say) raises instead
of writing a second result and a second event.
"""

from __future__ import annotations

from faxcore.domain import FaxState
from faxcore.reception.errors import InvalidTransition
from faxcore.transitions import StateTable

FAXES = StateTable("received fax", {
    FaxState.RECEIVING: frozenset({FaxState.RECEIVED, FaxState.PARTIAL, FaxState.FAILED}),
    FaxState.RECEIVED: frozenset(),
    FaxState.PARTIAL: frozenset(),
    FaxState.FAILED: frozenset(),
}, InvalidTransition)
