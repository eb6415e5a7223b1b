"""A state table: which states of a record lead where, and the only way to move.

As in h11's ``_state.py``, every stateful record (a send job, an attempt, a
received fax, a notification, the voicemail menu) declares its moves as one
table and changes state only through it. A move the table does not hold is a
bug in faxcore, never a user's error: it raises the feature's own error type,
so the feature's callers catch what they already know.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.Enum)


class StateTable(Generic[S]):
    """The moves between the states of one kind of record."""

    def __init__(self, subject: str, moves: Mapping[S, Iterable[S]],
                 error: type[Exception]) -> None:
        self.subject = subject
        self.moves: Mapping[S, frozenset[S]] = {state: frozenset(to) for state, to in moves.items()}
        self._error = error
        self._kind: type[S] = type(next(iter(self.moves)))
        missing = [state for state in self._kind if state not in self.moves]
        if missing:
            raise ValueError(f"{subject} table has no row for {missing}")

    def move(self, current: S | str, to: S) -> S:
        """``to``, when the table leads from ``current`` (a state or its stored value) to it."""
        state = self._kind(current)
        if to not in self.moves[state]:
            raise self._error(f"{self.subject} cannot go from {state.value} to {to.value}")
        return to

    def sources(self, to: S) -> frozenset[S]:
        """The states that lead to ``to``; refuses a state nothing leads to."""
        found = frozenset(state for state, moves in self.moves.items() if to in moves)
        if not found:
            raise self._error(f"no {self.subject} moves to {to.value}")
        return found

    def open_states(self) -> frozenset[S]:
        """The states that still lead somewhere."""
        return frozenset(state for state, moves in self.moves.items() if moves)

    def refuse_final(self, current: S | str) -> None:
        """Refuse a record whose state leads nowhere, before any work is done on it."""
        state = self._kind(current)
        if not self.moves[state]:
            raise self._error(f"{self.subject} is already {state.value}")
