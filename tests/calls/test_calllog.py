"""The call log and line lookup on the real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from faxcore.calls.calllog import CallLog
from faxcore.domain import CallDisposition, LineMode
from faxcore.storage.db import Database
from faxcore.storage.models import Line, OutboxEvent


async def add_line(db: Database, number: str, mode: LineMode = LineMode.FAX) -> Line:
    line = Line(number=number, mode=mode, sip_username=number[1:], sip_realm="faxcore",
                sip_ha1="0" * 32)
    async with db.session() as session:
        session.add(line)
    return line


async def test_find_line_by_e164_digits_and_national_forms(database: Database) -> None:
    fax = await add_line(database, "+33123456789")
    await add_line(database, "+4930123456", LineMode.VOICEMAIL)
    log = CallLog(database)
    for dialed in ("+33123456789", "33123456789", "0033123456789", "0123456789",
                   "+0123456789"):
        found = await log.find_line(dialed)
        assert found is not None and found.id == fax.id, dialed
    found = await log.find_line("030123456")
    assert found is not None and found.mode is LineMode.VOICEMAIL
    for dialed in ("+33999999999", "0999999999", "", "s", "+3312345678"):
        assert await log.find_line(dialed) is None, dialed


async def test_a_call_is_logged_open_then_closed_with_its_cause(database: Database) -> None:
    line = await add_line(database, "+33123456789")
    log = CallLog(database)
    started = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    await log.open_call(channel_id="1.1", caller="0612345678", called=line.number,
                        disposition=CallDisposition.ANSWERED, line_id=line.id,
                        started_at=started)
    assert await log.open_channel_ids() == ["1.1"]
    assert await log.close_call("1.1", cause=16) == 1
    assert await log.close_call("1.1", cause=17) == 0  # closed once only
    assert await log.open_channel_ids() == []
    (entry,) = await log.entries()
    assert entry.started_at == started and entry.ended_at is not None
    assert entry.ended_at > started
    assert (entry.cause, entry.line_id, entry.caller) == (16, line.id, "0612345678")


async def test_a_rejected_call_is_logged_closed(database: Database) -> None:
    log = CallLog(database)
    await log.open_call(channel_id="2.1", caller="", called="+4455",
                        disposition=CallDisposition.REJECTED_UNKNOWN_LINE, cause=1, ended=True)
    assert await log.open_channel_ids() == []
    (entry,) = await log.entries(["2.1"])
    assert entry.disposition is CallDisposition.REJECTED_UNKNOWN_LINE
    assert entry.cause == 1 and entry.ended_at == entry.started_at and entry.line_id is None


async def test_a_call_stuck_in_asterisk_is_closed_with_the_reason_and_one_operator_event(
        database: Database) -> None:
    line = await add_line(database, "+33123456789")
    log = CallLog(database)
    await log.open_call(channel_id="3.1", caller="0612345678", called=line.number,
                        disposition=CallDisposition.ANSWERED, line_id=line.id)
    request = "POST /bridges/b1/addChannel"
    assert await log.close_call("3.1", stuck=request) == 1
    (entry,) = await log.entries(["3.1"])
    assert entry.ended_at is not None
    assert entry.detail == f"stuck in Asterisk: {request} got no answer"
    async with database.session(read_only=True) as session:
        events = list(await session.scalars(select(OutboxEvent).where(
            OutboxEvent.kind == "call.stuck")))
    assert [(e.line, json.loads(e.payload)["data"]) for e in events] == [
        (line.number, {"channel_id": "3.1", "request": request})]
