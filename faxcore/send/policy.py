"""Sans-I/O retry policy (S4): given a failure and the attempts made, what next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from faxcore.send.failures import Failure


@dataclass(frozen=True)
class Decision:
    """``retry_at`` is when to dial again, ``None`` when the job has failed for good."""

    retry_at: datetime | None
    reason: str

    @property
    def final(self) -> bool:
        return self.retry_at is None


@dataclass(frozen=True)
class RetryPolicy:
    """Retry retryable failures, up to ``max_attempts``, waiting longer each time.

    The n-th retry waits ``initial * 2**(n-1)`` seconds, at most ``maximum``.
    """

    max_attempts: int = 3
    initial: float = 300.0
    maximum: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial < 0 or self.maximum < self.initial:
            raise ValueError("need 0 <= initial <= maximum")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return timedelta(seconds=min(self.maximum, self.initial * 2 ** max(0, attempts - 1)))

    def decide(self, failure: Failure, attempts: int, now: datetime,
               max_attempts: int | None = None) -> Decision:
        """After ``attempts`` attempts, the last of which failed with ``failure``."""
        limit = self.max_attempts if max_attempts is None else max_attempts
        reason = str(failure)
        if not failure.retry:
            return Decision(None, reason)
        if attempts >= limit:
            return Decision(None, f"{reason}; gave up after {attempts} attempts")
        return Decision(now + self.delay(attempts), reason)
