"""The transactional outbox: ``emit`` writes an event beside the state change it reports.

The caller passes its own ``AsyncSession``; the event row commits or rolls
back with the caller's change, so a fax marked received always has its
``fax.received`` event and a rolled-back change has none. The relay
(``faxcore.events.relay``) and the notifier read the rows afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.events.errors import InvalidEvent
from faxcore.events.kinds import KINDS, SCHEMA_VERSION, EventKind, LineChange, parse_kind
from faxcore.storage.models import OutboxEvent, utcnow

# Arbitrary namespace of faxcore's per-line outbox locks among PostgreSQL's
# two-key advisory locks (the other key is a hash of the line).
_LINE_LOCKS = 0x6F7574  # "out"


@dataclass(frozen=True)
class Event:
    """An event as published: the versioned envelope around the kind's ``data``."""

    id: str
    kind: EventKind
    time: datetime
    line: str
    data: Mapping[str, Any]

    def to_json(self) -> str:
        """The payload published on MQTT (schema in ``docs/events.md``)."""
        return json.dumps({
            "schema": SCHEMA_VERSION, "id": self.id, "kind": self.kind.value,
            "time": self.time.isoformat(), "line": self.line, "data": dict(self.data),
        }, sort_keys=True)

    @classmethod
    def from_json(cls, payload: str | bytes) -> Event:
        """Parse a payload; ``InvalidEvent`` says what is wrong with it."""
        try:
            raw = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEvent(f"event payload is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise InvalidEvent("event payload must be a JSON object")
        if raw.get("schema") != SCHEMA_VERSION:
            raise InvalidEvent(
                f"event schema {raw.get('schema')!r} is not supported (this faxcore reads "
                f"{SCHEMA_VERSION})"
            )
        try:
            kind = parse_kind(raw["kind"])
            event = cls(id=str(raw["id"]), kind=kind, time=datetime.fromisoformat(raw["time"]),
                        line=str(raw["line"]), data=raw["data"])
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidEvent(f"event payload is malformed: {exc}") from exc
        check_data(kind, event.data)
        return event


def check_data(kind: EventKind, data: Mapping[str, Any]) -> None:
    """Refuse data missing a required field of its kind (``InvalidEvent``)."""
    if not isinstance(data, Mapping):
        raise InvalidEvent(f"{kind.value}: data must be a mapping")
    missing = [name for name in KINDS[kind].required if name not in data]
    if missing:
        raise InvalidEvent(f"{kind.value}: data misses {', '.join(missing)}")


async def emit(session: AsyncSession, *, line: str, kind: EventKind | str,
               data: Mapping[str, Any]) -> str:
    """Record an event in ``session``'s transaction; returns its id (a UUID string).

    ``line`` is the E.164 number (``+33123456789``), ``kind`` an ``EventKind``
    or its dotted name, ``data`` the JSON-serialisable fields of that kind
    (``faxcore.events.kinds.KINDS``). Raises ``InvalidEvent`` before writing
    anything when the kind is unknown, a required field is missing or the
    data is not JSON.
    """
    try:
        parsed = parse_kind(kind)
    except ValueError as exc:
        raise InvalidEvent(str(exc)) from exc
    check_data(parsed, data)
    event = Event(id=str(uuid.uuid4()), kind=parsed, time=utcnow(), line=line, data=data)
    try:
        payload = event.to_json()
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"{parsed.value}: data is not JSON-serialisable: {exc}") from exc
    if session.get_bind().dialect.name == "postgresql":
        # Ids come from a sequence when rows are inserted, not when they commit:
        # two transactions could commit one line's events in the other order,
        # and the relay would publish them so. Writers of one line's events
        # queue here until the holder commits, so that line's ids follow its
        # commit order (SQLite's single writer already gives that order).
        await session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:line))"),
                              {"ns": _LINE_LOCKS, "line": line})
    session.add(OutboxEvent(event_id=event.id, line=line, kind=parsed.value, payload=payload,
                            created_at=event.time))
    await session.flush()
    return event.id


async def line_changed(session: AsyncSession, line: str, change: LineChange,
                       keys: Iterable[str] = ()) -> str:
    """N1: one ``line.changed`` event for a change of a line's settings (never a secret)."""
    return await emit(session, line=line, kind=EventKind.LINE_CHANGED,
                      data={"change": change.value, "keys": sorted(keys)})


async def unpublished(session: AsyncSession, limit: int = 100) -> list[OutboxEvent]:
    """Rows not yet acknowledged by the broker, oldest first (per-line order kept)."""
    rows = await session.scalars(
        select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        .order_by(OutboxEvent.id).limit(limit)
    )
    return list(rows)


async def mark_published(session: AsyncSession, row_id: int) -> None:
    """Record the broker's PUBACK for one row."""
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id == row_id).values(published_at=utcnow())
    )
