"""Migrations: the Alembic revisions build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from faxcore.domain import CallDisposition, LineMode
from faxcore.storage.db import Database
from faxcore.storage.errors import DatabaseUnavailable
from faxcore.storage.migrate import (
    MIGRATIONS_DIR,
    current,
    head_revision,
    schema_differences,
    upgrade,
)
from faxcore.storage.models import CallLogEntry, Line


async def test_fresh_database_has_no_revision_until_upgraded(database_url: str) -> None:
    before = await current(database_url)
    assert before.current is None
    assert not before.up_to_date

    status = await upgrade(database_url)
    assert status.before is None
    assert status.current == head_revision()
    assert status.changed and status.up_to_date
    assert (await current(database_url)).current == head_revision()


async def test_migrated_schema_equals_the_models(database_url: str) -> None:
    await upgrade(database_url)
    assert await schema_differences(database_url) == []


async def test_empty_database_differs_from_the_models(database_url: str) -> None:
    """The comparison above can fail: without migrations every table is missing."""
    diffs = await schema_differences(database_url)
    added = {d[1].name for d in diffs if d[0] == "add_table"}
    assert {"lines", "call_log"} <= added


async def test_second_upgrade_changes_nothing(database_url: str) -> None:
    await upgrade(database_url)
    again = await upgrade(database_url)
    assert again.before == again.current == head_revision()
    assert not again.changed


async def test_concurrent_upgrades_queue_instead_of_colliding(database_url: str) -> None:
    results = await asyncio.gather(*(upgrade(database_url) for _ in range(4)))
    assert all(r.current == head_revision() for r in results)
    assert sum(r.changed for r in results) == 1


async def test_migrated_tables_hold_rows_through_the_models(database: Database) -> None:
    async with database.session() as session:
        line = Line(
            number="+33123456789", mode=LineMode.FAX, sip_username="33123456789",
            sip_realm="faxcore", sip_ha1="0" * 32,
        )
        session.add(line)
        await session.flush()
        session.add(CallLogEntry(line_id=line.id, channel_id="c1",
                                 disposition=CallDisposition.ANSWERED))
    async with database.session() as session:
        entry = (await session.execute(select(CallLogEntry))).scalar_one()
        assert entry.disposition is CallDisposition.ANSWERED
        assert entry.direction == "in" and entry.detail == ""
        assert entry.started_at.tzinfo is not None or database.dialect == "sqlite"

    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"lines", "call_log", "alembic_version"} <= tables


def test_revisions_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert MIGRATIONS_DIR.is_relative_to(Path(__file__).resolve().parents[2] / "faxcore")


async def test_unreachable_postgresql_is_one_clear_error() -> None:
    url = "postgresql://faxcore:secret@127.0.0.1:1/faxcore"
    with pytest.raises(DatabaseUnavailable) as info:
        await upgrade(url)
    message = str(info.value)
    assert "cannot connect" in message
    assert "secret" not in message
