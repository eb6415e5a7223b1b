"""Retention (V7) as a pure function: which messages a mailbox no longer keeps.

A message goes when it is older than the age limit, or when more than the
count limit of kept messages (not in Deleted) are newer than it. The job in
``faxcore serve`` (``wiring.retention_pass``) applies it to every mailbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Kept:
    """What retention needs about a message."""

    id: int
    received_at: datetime
    deleted: bool


def expired(messages: Iterable[Kept], now: datetime, max_age: timedelta,
            max_count: int) -> set[int]:
    """Ids of the messages past the age limit or beyond the newest ``max_count`` kept."""
    gone = {m.id for m in messages if now - m.received_at > max_age}
    kept = sorted((m for m in messages if not m.deleted and m.id not in gone),
                  key=lambda m: (m.received_at, m.id), reverse=True)
    gone.update(m.id for m in kept[max_count:])
    return gone
