"""State changes that exist today emit their N1 event in the same transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from faxcore.calls.calllog import CallLog
from faxcore.domain import CallDisposition
from faxcore.lines.errors import InvalidLineInput
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent

LINE = "+33123456789"


async def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    async with db.session(read_only=True) as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        return [(r.kind, json.loads(r.payload)["data"]) for r in rows]


async def test_line_add_set_remove_are_line_changed_events(database: Database) -> None:
    service = LineService(database)
    await service.add(LINE, "abcd1234")
    await service.set(LINE, header="Cabinet", pin="2580")
    await service.remove(LINE)
    assert await _events(database) == [
        ("line.changed", {"change": "added", "keys": []}),
        ("line.changed", {"change": "updated", "keys": ["header", "pin"]}),
        ("line.changed", {"change": "removed", "keys": []}),
    ]


async def test_a_refused_change_emits_nothing(database: Database) -> None:
    service = LineService(database)
    await service.add(LINE, "abcd1234")
    with pytest.raises(InvalidLineInput):
        await service.set(LINE, pin="1111")
    assert [kind for kind, _ in await _events(database)] == ["line.changed"]


async def test_call_refused_by_a_filter_is_an_event(database: Database) -> None:
    line = await LineService(database).add(LINE, "abcd1234")
    log = CallLog(database)
    row = await log.find_line(line.number)
    assert row is not None
    await log.open_call(channel_id="c1", caller="+33611111111", called=LINE,
                        disposition=CallDisposition.REJECTED_FILTER, line_id=row.id,
                        detail="blacklisted", ended=True)
    await log.open_call(channel_id="c2", caller="", called="+33999999999",
                        disposition=CallDisposition.REJECTED_UNKNOWN_LINE, ended=True)
    assert (await _events(database))[-1] == (
        "call.refused", {"caller": "+33611111111", "reason": "blacklisted"})
    assert [k for k, _ in await _events(database)].count("call.refused") == 1
