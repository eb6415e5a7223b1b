"""Reconnect delays: exponential backoff with full jitter, sans I/O.

The policy never reads a clock or sleeps: the caller passes ``now`` (the
event loop's monotonic time) and sleeps for the delay it gets back. A
connection that stayed up at least ``stable_after`` seconds resets the
backoff, so an Asterisk restart after hours of service is retried quickly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before the next connection attempt."""

    initial: float = 0.2
    maximum: float = 10.0
    multiplier: float = 2.0
    stable_after: float = 5.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    _connected_at: float | None = None

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.multiplier < 1:
            raise ValueError(
                f"invalid backoff: initial={self.initial} maximum={self.maximum} "
                f"multiplier={self.multiplier}"
            )

    def connected(self, now: float) -> None:
        """A connection is up since ``now``."""
        self._connected_at = now

    def failed(self, now: float) -> float:
        """A connection attempt failed or a connection dropped at ``now``: the delay."""
        if self._connected_at is not None and now - self._connected_at >= self.stable_after:
            self.attempts = 0
        self._connected_at = None
        ceiling = min(self.maximum, self.initial * self.multiplier ** self.attempts)
        self.attempts += 1
        # Full jitter, but never below half the ceiling so retries do not spin.
        return ceiling / 2 + self.rng.random() * ceiling / 2
