"""The moves of a received fax (R2): receiving ends received, partial or failed, once.

``FaxStore`` settles a fax only through ``fax_move``; a second settlement of
the same fax (a late handler after a restart settled it, say) raises instead
of writing a second result and a second event.
"""

from __future__ import annotations

from collections.abc import Mapping

from faxcore.domain import FaxState
from faxcore.reception.errors import InvalidTransition

MOVES: Mapping[FaxState, frozenset[FaxState]] = {
    FaxState.RECEIVING: frozenset({FaxState.RECEIVED, FaxState.PARTIAL, FaxState.FAILED}),
    FaxState.RECEIVED: frozenset(),
    FaxState.PARTIAL: frozenset(),
    FaxState.FAILED: frozenset(),
}


def fax_move(current: str, to: FaxState) -> FaxState:
    """``to``, when the table leads from ``current`` to it."""
    if to not in MOVES[FaxState(current)]:
        raise InvalidTransition(f"received fax cannot go from {current} to {to}")
    return to


def still_open(current: str) -> None:
    """Refuse a fax whose state leads nowhere, before any work on its files."""
    if not MOVES[FaxState(current)]:
        raise InvalidTransition(f"received fax is already {current}")
