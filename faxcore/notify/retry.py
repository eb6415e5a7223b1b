"""When to try an e-mail again: a pure policy fed the attempt count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from ``initial`` seconds, capped at ``maximum``, ``attempts`` tries."""

    initial: float
    maximum: float
    attempts: int

    def delay(self, attempts_made: int) -> float:
        """Seconds to wait after ``attempts_made`` failed attempts (1 for the first)."""
        exponent = min(max(attempts_made - 1, 0), 30)
        return float(min(self.initial * 2**exponent, self.maximum))

    def next_attempt(self, attempts_made: int, now: datetime) -> datetime | None:
        """When to try again, or ``None`` when the last attempt has been made."""
        if attempts_made >= self.attempts:
            return None
        return now + timedelta(seconds=self.delay(attempts_made))
