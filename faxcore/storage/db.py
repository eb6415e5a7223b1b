"""The async database handle shared by services, CLI and tests."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from faxcore.errors import ConfigError
from faxcore.storage.errors import DatabaseUnavailable


def async_url(url: str) -> str:
    """Pick the asyncio driver for a plain ``sqlite:`` or ``postgresql:`` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(FileNotFoundError):
                Path(parsed.database).chmod(0o600)  # a database made before umask 077
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    else:
        raise ConfigError(f"database.url: unsupported database {backend!r} (sqlite or postgresql)")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Durable WAL, foreign keys, and transactions driven by SQLAlchemy.

    The sqlite3 driver's own transaction handling never opens a transaction
    before DDL, so a migration would not be atomic; with ``isolation_level =
    None`` the ``begin`` listener below emits ``BEGIN`` itself (SQLAlchemy's
    documented recipe for transactional DDL on SQLite).
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


_BEGIN_OPTION = "faxcore_sqlite_begin"


def _sqlite_begin(conn: Connection) -> None:
    """Open SQLite transactions ourselves; ``BEGIN IMMEDIATE`` unless asked otherwise.

    A deferred transaction that reads and then writes fails at once with
    "database is locked" when another connection wrote in between (WAL
    snapshot); taking the write lock at ``BEGIN`` makes writers queue on
    ``busy_timeout`` instead. Pure reads ask for a plain ``BEGIN``.
    """
    conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN IMMEDIATE"))


def _ensure_wal(path: str) -> None:
    """Switch the SQLite file to WAL before the engine opens it (stored in the file).

    The switch needs an exclusive lock and SQLite does not wait on
    ``busy_timeout`` for it, so doing it in every new connection fails when
    several connections open a fresh file at once. Here it runs once per
    ``Database``, synchronously; another process creating the same file at the
    same moment is waited for (up to 10 s).
    """
    deadline = time.monotonic() + 10.0
    while True:
        try:
            with contextlib.closing(sqlite3.connect(path, timeout=10.0)) as conn:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise DatabaseUnavailable(f"database {path}: cannot open: {exc}") from exc
            time.sleep(0.02)


class Database:
    """Owns the engine; ``session()`` gives a transaction-scoped session.

    On SQLite every transaction takes the write lock when it begins (one
    writer at a time, the others wait up to 10 s) unless the session is
    ``read_only``; migrations rely on it so two processes upgrading one file
    queue up instead of both seeing an empty schema.
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(async_url(url), echo=echo)
        if self.engine.dialect.name == "sqlite":
            path = self.engine.url.database
            if path and path != ":memory:" and not path.startswith("file:"):
                _ensure_wal(path)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        ``read_only`` sessions do not take SQLite's write lock (they may still
        write on PostgreSQL; on SQLite a write in them can fail when contended).
        """
        async with self._sessions() as session, session.begin():
            if read_only and self.dialect == "sqlite":
                await session.connection(execution_options={_BEGIN_OPTION: "BEGIN"})
            yield session

    async def now(self, session: AsyncSession) -> datetime:
        """The database server's clock, in UTC: the one clock every host sharing it agrees on.

        Leases compare with it, never with the host's clock: a host running
        minutes ahead would take another's live lease for expired (11.11).
        """
        if self.dialect == "postgresql":
            value = await session.scalar(text("SELECT statement_timestamp()"))
            return value.astimezone(UTC)
        raw = await session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
        return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
