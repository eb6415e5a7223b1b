"""N1: every change a subscriber makes to a line is an event (issue 13 item 5).

Filters, notification addresses, greetings, mailbox options, and a message
restored or marked new: each writes its event in the change's own
transaction, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from faxcore.config import FaxcoreConfig
from faxcore.domain import FilterKind
from faxcore.notify.addresses import NotifyService
from faxcore.reception.filters import FilterService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from faxcore.voicemail.store import VoicemailStore
from tests.voicemail.test_store import NUMBER, _line_id, wav


async def _events_after(database: Database, last: int) -> list[tuple[str, dict[str, object]]]:
    async with database.session(read_only=True) as session:
        rows = await session.execute(select(OutboxEvent.kind, OutboxEvent.payload)
                                     .where(OutboxEvent.id > last).order_by(OutboxEvent.id))
        return [(kind, json.loads(payload)["data"]) for kind, payload in rows]


async def _last(database: Database) -> int:
    async with database.session(read_only=True) as session:
        return max(await session.scalars(select(OutboxEvent.id)), default=0)


async def test_each_change_of_a_line_s_settings_is_one_line_changed_event(
        database: Database, config: FaxcoreConfig) -> None:
    await _line_id(database)
    store = VoicemailStore(database, config)
    last = await _last(database)
    filters = FilterService(database)
    await filters.add(NUMBER, FilterKind.BLOCK, "+33612345678")
    await filters.add(NUMBER, FilterKind.BLOCK, "+33612345678")  # already there: no change
    await filters.remove(NUMBER, FilterKind.BLOCK, "+33612345678")
    await filters.set_refuse_anonymous(NUMBER, True)
    await filters.set_refuse_anonymous(NUMBER, True)  # no change
    await NotifyService(database).add(NUMBER, "me@example.com")
    await NotifyService(database).remove(NUMBER, "me@example.com")
    await store.use_greeting(NUMBER, "busy")
    await store.set_options(NUMBER, autoplay=True, envelope="message")
    assert await _events_after(database, last) == [
        ("line.changed", {"change": "filters", "keys": ["block"]}),
        ("line.changed", {"change": "filters", "keys": ["block"]}),
        ("line.changed", {"change": "filters", "keys": ["refuse_anonymous"]}),
        ("line.changed", {"change": "notify_addresses", "keys": []}),
        ("line.changed", {"change": "notify_addresses", "keys": []}),
        ("line.changed", {"change": "greeting", "keys": ["busy"]}),
        ("line.changed", {"change": "mailbox_options", "keys": ["autoplay", "envelope"]}),
    ]


async def test_a_message_restored_or_marked_new_is_an_event(
        database: Database, config: FaxcoreConfig) -> None:
    store = VoicemailStore(database, config)
    message = await store.save_message(await _line_id(database), "0612345678", wav(1.5))
    last = await _last(database)
    await store.mark(message.id, heard=True)
    await store.mark(message.id, heard=False)
    await store.delete(message.id)
    await store.restore(message.id)
    ours = {"message_id": message.id}
    assert [(kind, {k: v for k, v in data.items() if k == "message_id"})
            for kind, data in await _events_after(database, last)] == [
        ("voicemail.heard", ours), ("voicemail.marked_new", ours),
        ("voicemail.deleted", ours), ("voicemail.restored", ours)]
