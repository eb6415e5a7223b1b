"""Outbox retention: old delivered events go, undelivered ones stay whatever their age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from faxcore.events import EventKind, emit
from faxcore.events.retention import prune_outbox
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent, utcnow

LINE = "+33123456789"


async def _event(db: Database, *, age_days: int, published: bool, consumed: bool) -> str:
    async with db.session() as session:
        event_id = await emit(session, line=LINE, kind=EventKind.VOICEMAIL_HEARD,
                              data={"message_id": 1})
    now = utcnow()
    async with db.session() as session:
        await session.execute(update(OutboxEvent).where(OutboxEvent.event_id == event_id).values(
            created_at=now - timedelta(days=age_days),
            published_at=now if published else None, consumed_at=now if consumed else None))
    return event_id


async def _left(db: Database) -> set[str]:
    async with db.session(read_only=True) as session:
        return set(await session.scalars(select(OutboxEvent.event_id)))


# Which of the four events each policy keeps, written out rather than derived
# from the flags the way the code under test derives it.
@pytest.mark.parametrize(("require_published", "require_consumed", "kept"), [
    (True, True, {"young", "unpublished", "unconsumed"}),
    (True, False, {"young", "unpublished"}),
    (False, True, {"young", "unconsumed"}),
    (False, False, {"young"}),
])
async def test_only_old_events_delivered_everywhere_required_are_deleted(
        database: Database, require_published: bool, require_consumed: bool,
        kept: set[str]) -> None:
    events = {
        "young": await _event(database, age_days=1, published=True, consumed=True),
        "done": await _event(database, age_days=40, published=True, consumed=True),
        "unpublished": await _event(database, age_days=40, published=False, consumed=True),
        "unconsumed": await _event(database, age_days=40, published=True, consumed=False),
    }
    deleted = await prune_outbox(database, before=utcnow() - timedelta(days=30),
                                 require_published=require_published,
                                 require_consumed=require_consumed)
    assert await _left(database) == {events[name] for name in kept}
    assert deleted == 4 - len(kept)
