"""Fixtures shared by every test: configuration and real databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from faxcore.config import FaxcoreConfig, load_config
from faxcore.storage.db import Database

pytest_plugins = ["tests.lab_fixtures"]

PG_URL = os.environ.get(
    "FAXCORE_TEST_PG_URL", "postgresql://faxcore:faxcore@127.0.0.1:5432/faxcore_test"
)


@pytest.fixture
def config(tmp_path: Path) -> FaxcoreConfig:
    """A configuration isolated in the test's own folder (SQLite, no broker)."""
    return load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    admin = make_url(PG_URL)
    name = f"faxcore_t_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, config: FaxcoreConfig) -> str:
    """Run the test once on SQLite and once on the real PostgreSQL."""
    if request.param == "sqlite":
        return config.database_url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (SQLite and PostgreSQL)."""
    from faxcore.storage.migrate import upgrade

    await upgrade(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    """The ``faxcore`` command sets umask 077 for its process; CliRunner runs it in ours."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)
