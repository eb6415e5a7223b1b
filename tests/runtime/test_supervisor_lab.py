"""Faults injected into ``faxcore serve``'s background loops during live lab calls (11.6).

``faxcore serve`` runs in-process against the lab PBX with an SMTP server,
so the notifier and the send worker run beside the calls as in production.
The faults are real: another SQLite connection holds the database's write
lock longer than faxcore's busy timeout ("database is locked"), and a
notification's PDF is replaced by a folder (``IsADirectoryError``). Nothing
is faked. The call must complete, the loops must recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from faxcore.config import FaxcoreConfig, NotifyConfig, SmtpConfig
from faxcore.domain import FaxState
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.reception.store import FaxStore, FaxView
from faxcore.storage.db import Database
from faxcore.storage.models import Notification
from tests.calls.test_serve_lab import serving, wait_for
from tests.lab_fixtures import LAB_LINE
from tests.notify.conftest import SmtpServer

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ADDRESS = "loops@example.com"
BUSY_TIMEOUT = 10.0  # faxcore.storage.db: PRAGMA busy_timeout=10000


@pytest.fixture
async def mailing_line(lab: Lab, lab_config: FaxcoreConfig,
                       smtp_server: SmtpServer) -> AsyncIterator[FaxcoreConfig]:
    """The lab line in fax mode mailing ``ADDRESS``; 4 quick attempts per notification."""
    config = dataclasses.replace(
        lab_config, smtp=SmtpConfig(url=smtp_server.url, timeout=10.0,
                                    from_address="fax@example.net"),
        notify=NotifyConfig(poll_interval=0.1, retry_initial=2.0, retry_max=4.0,
                            max_attempts=4))
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, mode="fax", language="en")
        await NotifyService(db).add(LAB_LINE, ADDRESS, "fax")
    try:
        yield config
    finally:
        async with Database(config.database_url) as db:
            await NotifyService(db).remove(LAB_LINE, ADDRESS)


def _sqlite_path(config: FaxcoreConfig) -> str:
    prefix = "sqlite:///"
    assert config.database_url.startswith(prefix), "the lab runs on SQLite"
    return config.database_url[len(prefix):]


@contextlib.asynccontextmanager
async def write_locked(config: FaxcoreConfig) -> AsyncIterator[None]:
    """Hold the database's write lock from another connection, as a stuck writer would.

    Taken from a thread: faxcore serves in this test's own event loop, and a
    transaction of its own holds the lock until the loop lets it commit.
    Waiting for the lock in the loop's thread once blocked both until the
    5 s timeout ("database is locked" in the test itself).
    """
    conn = sqlite3.connect(_sqlite_path(config), isolation_level=None, timeout=60.0,
                           check_same_thread=False)
    try:
        await asyncio.to_thread(conn.execute, "BEGIN EXCLUSIVE")
        yield
        await asyncio.to_thread(conn.execute, "ROLLBACK")
    finally:
        conn.close()


async def _new_faxes(config: FaxcoreConfig, before: set[int]) -> list[FaxView]:
    async with Database(config.database_url) as db:
        return [f for f in await FaxStore(db, config.fax_dir).list(LAB_LINE)
                if f.id not in before]


async def _notifications(config: FaxcoreConfig, fax_id: int) -> list[Notification]:
    async with Database(config.database_url) as db, db.session(read_only=True) as session:
        rows = await session.scalars(select(Notification).where(Notification.address == ADDRESS))
    return [r for r in rows if json.loads(r.payload)["data"].get("fax_id") == fax_id]


async def _fax(config: FaxcoreConfig, document: Path, station: str) -> None:
    outcome = await Ata(config).send_fax(LAB_LINE, document, mode="g711", station_id=station)
    assert outcome.fax_ok, outcome


def _mails_for(smtp: SmtpServer, fax_id: int) -> int:
    return sum(1 for m in smtp.mailbox.snapshot()
               if any(p.get_filename() == f"fax-{fax_id}.pdf" for p in m.iter_attachments()))


async def test_database_locked_during_a_reception_leaves_the_call_alone_and_mail_resumes(
        mailing_line: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    config = mailing_line
    before = {f.id for f in await _new_faxes(config, set())}
    with caplog.at_level(logging.ERROR, logger="faxcore.runtime.supervisor"):
        async with serving(config) as served, asyncio.TaskGroup() as tg:
            call = tg.create_task(_fax(served, document, "LOOPS LOCKED"))

            async def receiving() -> bool:
                return any(f.state is FaxState.RECEIVING for f in await _new_faxes(config, before))
            await wait_for(receiving, 60, "the reception to start")
            # Longer than the busy timeout: every writer that queues now gets
            # "database is locked". The reception's own first write (the
            # station id, a few seconds in) waits less than that and succeeds.
            async with write_locked(config):
                await asyncio.sleep(BUSY_TIMEOUT + 1.0)
            await call
            [fax] = await _new_faxes(config, before)

            async def mailed() -> bool:
                return _mails_for(smtp_server, fax.id) == 1
            await wait_for(mailed, 60, "the notifier to recover and mail the fax")
    [fax] = await _new_faxes(config, before)
    assert fax.state is FaxState.RECEIVED and fax.pages == 1, fax
    locked = [r for r in caplog.records if "pass failed" in r.getMessage()
              and r.exc_info and "database is locked" in str(r.exc_info[1])]
    assert locked, "no background loop met the locked database"


async def test_unreadable_attachment_fails_its_notification_while_a_call_goes_on(
        mailing_line: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    config = mailing_line
    before = {f.id for f in await _new_faxes(config, set())}
    smtp_server.mailbox.refuse = True
    async with serving(config) as served:
        await _fax(served, document, "LOOPS FIRST")
        [first] = await _new_faxes(config, before)

        async def refused_once() -> bool:
            return any(n.last_error for n in await _notifications(config, first.id))
        await wait_for(refused_once, 30, "a first refused attempt")
        pdf = Path(first.pdf_path)
        pdf.unlink()
        pdf.mkdir()  # the attachment can no longer be read: IsADirectoryError
        smtp_server.mailbox.refuse = False
        # The next attempts fail on the attachment while this call is received.
        await _fax(served, document, "LOOPS SECOND")
        [second] = [f for f in await _new_faxes(config, before) if f.id != first.id]

        async def settled() -> bool:
            rows = await _notifications(config, first.id)
            return bool(rows) and rows[0].state == "failed" and _mails_for(
                smtp_server, second.id) == 1
        await wait_for(settled, 60, "the first notification to fail, the second to go")
    shutil.rmtree(pdf)
    [row] = await _notifications(config, first.id)
    assert row.attempts == 4 and "Is a directory" in row.last_error, row.last_error
    assert second.state is FaxState.RECEIVED and second.pages == 1
