"""The outbox: events commit or roll back with the change, and match the documented schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select

from faxcore.events import KINDS, Event, EventKind, InvalidEvent, emit, schema_for, topic
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
LINE = "+33123456789"

SAMPLES: dict[EventKind, dict[str, Any]] = {
    EventKind.FAX_RECEIVED: {"fax_id": 7, "pages": 2, "pdf_path": "/d/7.pdf", "caller": "+3311"},
    EventKind.FAX_PARTIAL: {"fax_id": 8, "pages": 1, "pdf_path": "/d/8.pdf", "reason": "hangup"},
    EventKind.FAX_FAILED: {"reason": "no carrier", "caller": ""},
    EventKind.FAX_SENT: {"job_id": "j1", "to": "+33199", "pages": 3, "report_to": "a@b.fr"},
    EventKind.FAX_SEND_FAILED: {"job_id": 3, "to": "+33199", "reason": "busy", "attempts": 3,
                                "report_to": None},
    EventKind.FAX_SEND_RETRY: {"job_id": 3, "to": "+33199", "reason": "busy", "attempts": 1,
                               "next_attempt_at": "2026-11-23T07:00:00+00:00"},
    EventKind.CALL_REFUSED: {"caller": "anonymous", "reason": "anonymous refused"},
    EventKind.CALL_STUCK: {"channel_id": "pbx-1.0", "request": "POST /bridges/b1/addChannel"},
    EventKind.VOICEMAIL_MESSAGE: {"message_id": 1, "duration_s": 4.5, "audio_path": "/v/1.wav",
                                  "urgent": True, "private": False},
    EventKind.VOICEMAIL_HEARD: {"message_id": 1},
    EventKind.VOICEMAIL_DELETED: {"message_id": 1, "purged": False},
    EventKind.VOICEMAIL_RESTORED: {"message_id": 1},
    EventKind.VOICEMAIL_MARKED_NEW: {"message_id": 1},
    EventKind.VOICEMAIL_MAILBOX_LOCKED: {"failures": 5},
    EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL: {"messages": 92, "max_messages": 100},
    EventKind.CAMPAIGN_STATE: {"campaign_id": 2, "state": "running"},
    EventKind.LINE_CHANGED: {"change": "updated", "keys": ["header"]},
    EventKind.LINE_FAX_PASSWORD_LOCKED: {"caller": "web:203.0.113.9", "failures": 5},
}


async def _count(db: Database) -> int:
    async with db.session(read_only=True) as session:
        return int(await session.scalar(select(func.count(OutboxEvent.id))) or 0)


async def test_event_commits_with_the_change(database: Database) -> None:
    async with database.session() as session:
        event_id = await emit(session, line=LINE, kind="fax.received",
                              data=SAMPLES[EventKind.FAX_RECEIVED])
    async with database.session(read_only=True) as session:
        row = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id))
    assert row is not None and row.published_at is None and row.kind == "fax.received"
    assert Event.from_json(row.payload).data["pdf_path"] == "/d/7.pdf"


async def test_rolled_back_change_leaves_no_event(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await emit(session, line=LINE, kind=EventKind.FAX_FAILED, data={"reason": "x"})
            raise RuntimeError("the state change failed")
    assert await _count(database) == 0


@pytest.mark.parametrize(("kind", "data", "message"), [
    ("fax.exploded", {}, "unknown event kind 'fax.exploded'"),
    ("fax.received", {"fax_id": 1, "pages": 1}, "fax.received: data misses pdf_path"),
    ("fax.failed", {"reason": object()}, "not JSON-serialisable"),
])
async def test_bad_event_is_refused_and_writes_nothing(
        database: Database, kind: str, data: dict[str, Any], message: str) -> None:
    async with database.session() as session:
        with pytest.raises(InvalidEvent, match=re.escape(message)):
            await emit(session, line=LINE, kind=kind, data=data)
    assert await _count(database) == 0


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(EventKind) == set(KINDS)


@pytest.mark.parametrize("kind", list(EventKind))
def test_payload_of_every_kind_validates_against_its_schema(kind: EventKind) -> None:
    from faxcore.storage.models import utcnow

    event = Event(id="0b7a2f1e-8d0c-4c55-9d2e-3f6f3a1c9b10", kind=kind, time=utcnow(),
                  line=LINE, data=SAMPLES[kind])
    payload = json.loads(event.to_json())
    validator = jsonschema.Draft202012Validator(
        schema_for(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(payload)
    broken = {**payload, "data": {}} if KINDS[kind].required else {**payload, "schema": 2}
    assert not validator.is_valid(broken)


def _documented_schemas() -> dict[str, Any]:
    text = DOCS.read_text()
    blocks = re.findall(r"^### `([a-z_.]+)`.*?```json\n(.*?)```", text, re.S | re.M)
    return {name: json.loads(body) for name, body in blocks}


def test_docs_publish_exactly_the_schemas_in_the_code() -> None:
    documented = _documented_schemas()
    assert set(documented) == {k.value for k in EventKind}
    for kind in EventKind:
        assert documented[kind.value] == schema_for(kind), kind


def test_topic_drops_the_plus_reserved_by_mqtt() -> None:
    assert topic("faxcore", LINE, EventKind.FAX_RECEIVED) == "faxcore/33123456789/fax/received"
    assert topic("site/a/", LINE, EventKind.VOICEMAIL_MESSAGE) == (
        "site/a/33123456789/voicemail/message")


def test_payload_round_trips_and_refuses_other_versions() -> None:
    from faxcore.storage.models import utcnow

    event = Event(id="x", kind=EventKind.FAX_FAILED, time=utcnow(), line=LINE,
                  data={"reason": "r"})
    assert Event.from_json(event.to_json()) == event
    with pytest.raises(InvalidEvent, match="schema 2 is not supported"):
        Event.from_json(json.dumps({**json.loads(event.to_json()), "schema": 2}))
    with pytest.raises(InvalidEvent, match="not JSON"):
        Event.from_json(b"\xff")
