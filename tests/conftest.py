"""Fixtures shared by every test: configuration, real databases, the real broker.

A real part missing on this host (the lab's root, PostgreSQL, Mosquitto) skips
its tests on a workstation and fails them when ``CI`` is set: a CI run that
skipped them would be green without having proven anything.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy.engine import make_url

from faxcore.config import FaxcoreConfig, load_config
from faxcore.storage.db import Database

pytest_plugins = ["tests.lab_fixtures", "tests.connection_leaks"]

PG_URL = os.environ.get(
    "FAXCORE_TEST_PG_URL", "postgresql://faxcore:faxcore@127.0.0.1:5432/faxcore_test"
)
SYSTEM_BROKER_ADDRESS = ("127.0.0.1", 1883)
# Fixtures that reach a real part: their tests get its marker at collection.
_MARKED_BY_FIXTURE = {"pg_url": "postgres", "lab": "lab", "lab_config": "lab"}


def unavailable(reason: str) -> NoReturn:
    """A real part this test needs is missing: skip here, fail when ``CI`` is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: a missing real part fails the run)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the real parts its fixtures reach, so ``-m`` selects them all.

    The call soak (issue 21, an hour of calls) runs only when ``-m`` names it.
    """
    if "call_soak" not in (config.getoption("markexpr") or ""):
        soak = [item for item in items if item.get_closest_marker("call_soak") is not None]
        if soak:
            config.hook.pytest_deselected(items=soak)
            items[:] = [item for item in items if item not in soak]
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _MARKED_BY_FIXTURE.items():
            if fixture in names and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgresql" in (params.get("database_url"), params.get("lab_database")):
            item.add_marker("postgres")


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
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL unreachable at {admin.host}:{admin.port}: {exc}")
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


@pytest.fixture
def system_broker() -> str:
    """The URL of the system Mosquitto (127.0.0.1:1883), checked to listen."""
    try:
        socket.create_connection(SYSTEM_BROKER_ADDRESS, timeout=2).close()
    except OSError as exc:
        unavailable(f"no Mosquitto at {SYSTEM_BROKER_ADDRESS[0]}:{SYSTEM_BROKER_ADDRESS[1]}: {exc}")
    return "mqtt://{}:{}".format(*SYSTEM_BROKER_ADDRESS)


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    """The ``faxcore`` command sets umask 077 for its process; CliRunner runs it in ours."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)
