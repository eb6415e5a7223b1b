"""The call log (table ``call_log``): one row per call that reached the app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update

from faxcore.calls.numbers import candidates, national_suffix, pick
from faxcore.domain import CallDisposition, LineInfo
from faxcore.events import EventKind, emit
from faxcore.storage.db import Database
from faxcore.storage.models import CallLogEntry, Line, utcnow


@dataclass(frozen=True)
class CallRecord:
    """One call log entry as shown to operators (``faxcore calls list``)."""

    id: int
    line: str | None
    direction: str
    caller: str
    called: str
    disposition: CallDisposition
    cause: int | None
    detail: str
    started_at: datetime
    ended_at: datetime | None


class CallLog:
    """Writes and closes call log entries; finds lines for dialed numbers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def find_line(self, dialed: str) -> LineInfo | None:
        """The line ``dialed`` designates (see ``faxcore.calls.numbers``)."""
        row = await self._find_row(dialed)
        if row is None:
            return None
        return LineInfo(id=row.id, number=row.number, mode=row.mode, station_id=row.station_id,
                        header=row.header, language=row.language)

    async def _find_row(self, dialed: str) -> Line | None:
        forms = candidates(dialed)
        conditions = [Line.number.in_(forms), Line.sip_username.in_([f[1:] for f in forms])]
        suffix = national_suffix(dialed)
        if suffix is not None:
            conditions.append(Line.number.like(f"+%{suffix}"))
        if not forms and suffix is None:
            return None
        async with self.db.session(read_only=True) as session:
            rows = list((await session.scalars(select(Line).where(or_(*conditions)))).all())
        by_number = {line.number: line for line in rows}
        number = pick(dialed, by_number)
        if number is None:
            # sip_username is the number's digits: an exact digits match is the line.
            digits = [line for line in rows if line.sip_username in {f[1:] for f in forms}]
            return digits[0] if len(digits) == 1 else None
        return by_number[number]

    async def open_call(self, *, channel_id: str, caller: str, called: str,
                        disposition: CallDisposition, line_id: int | None = None,
                        cause: int | None = None, detail: str = "",
                        started_at: datetime | None = None,
                        ended: bool = False, direction: str = "in") -> CallLogEntry:
        """Log a call; ``ended`` closes it at once (rejected calls).

        A call refused by a line's filters (R4) is also a ``call.refused`` event.
        """
        now = utcnow()
        entry = CallLogEntry(
            channel_id=channel_id, caller=caller, called=called, disposition=disposition,
            line_id=line_id, cause=cause, detail=detail, started_at=started_at or now,
            ended_at=now if ended else None, direction=direction,
        )
        async with self.db.session() as session:
            session.add(entry)
            if disposition is CallDisposition.REJECTED_FILTER and line_id is not None:
                number = await session.scalar(select(Line.number).where(Line.id == line_id))
                if number is not None:
                    await emit(session, line=number, kind=EventKind.CALL_REFUSED,
                               data={"caller": caller, "reason": detail or "filtered"})
        return entry

    async def close_call(self, channel_id: str, *, cause: int | None = None,
                         detail: str | None = None, ended_at: datetime | None = None,
                         stuck: str | None = None) -> int:
        """Set ``ended_at`` (and the cause when known) on the channel's open entries.

        ``stuck`` names the request Asterisk never answered for this channel:
        the entry says so and each line it belongs to gets one ``call.stuck``
        event in the same transaction, for the operator.
        """
        values: dict[str, object] = {"ended_at": ended_at or utcnow()}
        if cause is not None:
            values["cause"] = cause
        if stuck is not None:
            detail = f"stuck in Asterisk: {stuck} got no answer"
        if detail is not None:
            values["detail"] = detail
        where = (CallLogEntry.channel_id == channel_id, CallLogEntry.ended_at.is_(None))
        async with self.db.session() as session:
            if stuck is not None:
                lines = await session.scalars(
                    select(Line.number).join(CallLogEntry, CallLogEntry.line_id == Line.id)
                    .where(*where).distinct())
                for number in lines.all():
                    await emit(session, line=number, kind=EventKind.CALL_STUCK,
                               data={"channel_id": channel_id, "request": stuck})
            result = await session.execute(update(CallLogEntry).where(*where).values(**values))
        return int(getattr(result, "rowcount", 0) or 0)

    async def open_channel_ids(self) -> list[str]:
        """Channels of calls still logged as in progress."""
        async with self.db.session(read_only=True) as session:
            rows = await session.scalars(
                select(CallLogEntry.channel_id).where(CallLogEntry.ended_at.is_(None))
            )
            return list(rows.all())

    async def entries(self, channel_ids: Iterable[str] | None = None) -> list[CallLogEntry]:
        """Entries, oldest first (all, or those of ``channel_ids``)."""
        query = select(CallLogEntry).order_by(CallLogEntry.id)
        if channel_ids is not None:
            query = query.where(CallLogEntry.channel_id.in_(list(channel_ids)))
        async with self.db.session(read_only=True) as session:
            return list((await session.scalars(query)).all())

    async def recent(self, *, line_number: str | None = None, limit: int = 50) -> list[CallRecord]:
        """The ``limit`` latest calls, newest first, of one line or of all."""
        query = (select(CallLogEntry, Line.number)
                 .outerjoin(Line, CallLogEntry.line_id == Line.id)
                 .order_by(CallLogEntry.id.desc()).limit(limit))
        if line_number is not None:
            query = query.where(Line.number == line_number)
        async with self.db.session(read_only=True) as session:
            rows = (await session.execute(query)).all()
        return [CallRecord(id=e.id, line=number, direction=e.direction, caller=e.caller,
                           called=e.called, disposition=e.disposition, cause=e.cause,
                           detail=e.detail, started_at=e.started_at, ended_at=e.ended_at)
                for e, number in rows]
