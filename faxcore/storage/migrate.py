"""Bring a database schema up to date (``faxcore db upgrade``, ``faxcore db current``).

Alembic is configured in code, not from an ``alembic.ini``: the revisions
live inside the package (``faxcore/storage/migrations``), so an installed
faxcore migrates its database without a checkout. Alembic is synchronous; it
runs through ``AsyncConnection.run_sync`` on the same async engine the rest of
faxcore uses, inside one transaction (PostgreSQL and SQLite both have
transactional DDL), so a failed upgrade leaves the schema as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from faxcore.storage.db import Database
from faxcore.storage.errors import DatabaseUnavailable, MigrationError
from faxcore.storage.models import Base

log = logging.getLogger(__name__)
# Alembic logs every connection at INFO; faxcore logs what was applied instead.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Key of the PostgreSQL advisory lock that serializes concurrent upgrades
# (the ASCII of "faxmig").
_PG_LOCK_KEY = 0x6661786D6967

T = TypeVar("T")


@dataclass(frozen=True)
class MigrationStatus:
    """Where a database stands: its revision before and after, and the newest one."""

    url: str
    before: str | None
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """True when the database is at the newest revision."""
        return self.current == self.head

    @property
    def changed(self) -> bool:
        """True when this call applied at least one revision."""
        return self.before != self.current


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code; ``connection`` is what ``env.py`` runs on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this faxcore."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migration found in {MIGRATIONS_DIR}")
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def safe_url(url: str) -> str:
    """``url`` with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


async def _run(url: str, work: Callable[[Connection], T], *, lock: bool) -> T:
    """Run ``work`` on a sync facade of an async connection, in one transaction."""
    db = Database(url)

    def locked(connection: Connection) -> T:
        if lock and connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        return work(connection)

    try:
        async with db.engine.begin() as conn:
            return await conn.run_sync(locked)
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_connect_error(exc):
            raise DatabaseUnavailable(
                f"database {safe_url(url)}: cannot connect: {_first_line(exc.orig)}"
            ) from exc
        raise MigrationError(f"database {safe_url(url)}: {_first_line(exc.orig)}") from exc
    except CommandError as exc:
        raise MigrationError(f"database {safe_url(url)}: {exc}") from exc
    except SQLAlchemyError as exc:
        raise MigrationError(f"database {safe_url(url)}: {_first_line(exc)}") from exc
    finally:
        await db.close()


def _is_connect_error(exc: DBAPIError) -> bool:
    text_ = str(exc.orig).lower()
    return any(
        s in text_
        for s in ("connection refused", "could not connect", "unable to open database",
                  "password authentication failed", "does not exist", "connection failed")
    )


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


async def upgrade(url: str, revision: str = "head") -> MigrationStatus:
    """Migrate the schema at ``url`` to ``revision`` (newest by default).

    Safe to call on every start: an up-to-date database costs one query.
    Concurrent callers queue on a lock (PostgreSQL advisory lock, SQLite
    ``BEGIN IMMEDIATE``).
    """
    head = head_revision()

    def work(connection: Connection) -> tuple[str | None, str | None]:
        before = _current(connection)
        command.upgrade(alembic_config(connection), revision)
        return before, _current(connection)

    before, after = await _run(url, work, lock=True)
    if before != after:
        log.debug("database %s migrated from %s to %s", safe_url(url), before, after)
    return MigrationStatus(url=safe_url(url), before=before, current=after, head=head)


async def current(url: str) -> MigrationStatus:
    """The revision of the schema at ``url`` (``None``: never migrated); changes nothing."""
    head = head_revision()
    revision = await _run(url, _current, lock=False)
    return MigrationStatus(url=safe_url(url), before=revision, current=revision, head=head)


async def schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate sees between the schema at ``url`` and the models.

    Empty when the migrations create exactly what the models describe.
    """

    def work(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    return await _run(url, work, lock=False)
