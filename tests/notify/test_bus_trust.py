"""Events read from MQTT are claims: forged paths and ids mail and purge nothing.

The notifier reads a broker that requires a login (the shipped ACL); the
forger publishes with faxcore's own account, as someone holding a leaked
password would.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from faxcore.config import FaxcoreConfig, MqttConfig
from faxcore.domain import FaxState
from faxcore.events.kinds import SCHEMA_VERSION, EventKind, topic
from faxcore.events.relay import BrokerAddress
from faxcore.lines.service import LineService, find_line
from faxcore.notify.addresses import NotifyService
from faxcore.notify.notifier import Notifier
from faxcore.notify.states import NotificationState
from faxcore.runtime.notifier import notifier_for
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.storage.db import Database
from faxcore.storage.models import Notification, ReceivedFax, utcnow
from faxcore.voicemail.store import VoicemailStore
from tests.events.conftest import BUS_USERS, Mosquitto
from tests.notify.conftest import LINE, SmtpServer, notify_config, write_pdf, write_wav

OTHER_LINE = "+33198765432"
SECRET = b"SQLite format 3\x00 every HA1 of every line"


def faxcore_broker(broker: Mosquitto) -> BrokerAddress:
    return BrokerAddress.of(MqttConfig(url=broker.url, username="faxcore",
                                       password=BUS_USERS["faxcore"]))


@asynccontextmanager
async def consuming(notifier: Notifier, broker: BrokerAddress,
                    prefix: str) -> AsyncIterator[None]:
    """The notifier fed from the bus, with its persistent session made before anything is sent."""
    client_id = f"{prefix}-notifier"
    async with broker.client(client_id, clean_session=False) as session:
        await session.subscribe(f"{prefix}/#", qos=1)

    async def source() -> None:
        await notifier.consume_mqtt(broker, prefix, client_id)

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(Supervisor().run([notifier.delivery_loop(),
                                                 Loop("notifier-mqtt", source)]))
        try:
            yield
        finally:
            task.cancel()


async def publish(broker: BrokerAddress, prefix: str, line: str, kind: EventKind,
                  data: dict[str, Any]) -> str:
    event_id = str(uuid.uuid4())
    payload = json.dumps({"schema": SCHEMA_VERSION, "id": event_id, "kind": kind.value,
                          "time": utcnow().isoformat(), "line": line, "data": data})
    async with broker.client() as client:
        await client.publish(topic(prefix, line, kind), payload, qos=1)
    return event_id


async def rows_of(db: Database, event_id: str) -> list[Notification]:
    async with db.session(read_only=True) as session:
        return list(await session.scalars(
            select(Notification).where(Notification.event_id == event_id)))


async def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


def settled(db: Database, event_id: str, state: str) -> Callable[[], Any]:
    async def check() -> bool:
        rows = await rows_of(db, event_id)
        return bool(rows) and all(r.state == state for r in rows)
    return check


def attached(mails: list[EmailMessage]) -> list[bytes]:
    return [bytes(part.get_content()) for mail in mails
            for part in mail.iter_attachments()]  # type: ignore[attr-defined]


async def add_fax(db: Database, line: str, pdf: Path) -> int:
    async with db.session() as session:
        fax = ReceivedFax(line_id=(await find_line(session, line)).id, line_number=line,
                          state=FaxState.RECEIVED, pages=1, caller="+33987654321",
                          pdf_path=str(pdf), tiff_path="")
        session.add(fax)
        await session.flush()
        return fax.id


async def test_forged_pdf_path_to_the_database_mails_nothing_of_it(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        auth_broker: Mosquitto, tmp_path: Path) -> None:
    config = notify_config(config, smtp_server)
    secret = tmp_path / "faxcore.db"
    secret.write_bytes(SECRET)
    pdf = write_pdf(tmp_path / "real.pdf", 1)
    fax_id = await add_fax(database, line, pdf)
    broker, prefix = faxcore_broker(auth_broker), "faxcore"
    async with consuming(Notifier(database, config.smtp, config.notify), broker, prefix):
        unknown = await publish(broker, prefix, line, EventKind.FAX_RECEIVED,
                                {"fax_id": fax_id + 1000, "pages": 1, "pdf_path": str(secret)})
        await wait_for(settled(database, unknown, NotificationState.FAILED))
        # The line's own fax, its path rewritten: the stored PDF goes, not the named file.
        own = await publish(broker, prefix, line, EventKind.FAX_RECEIVED,
                            {"fax_id": fax_id, "pages": 1, "pdf_path": str(secret)})
        await wait_for(settled(database, own, NotificationState.SENT))
    refused = await rows_of(database, unknown)
    assert sorted(r.address for r in refused) == ["alice@example.com", "bob@example.com"]
    assert all(f"fax {fax_id + 1000} is not line {LINE}'s" in r.last_error for r in refused)
    mails = smtp_server.mailbox.snapshot()
    assert len(mails) == 2 and {m["X-Faxcore-Event"] for m in mails} == {f"fax.received {own}"}
    assert attached(mails) == [pdf.read_bytes()] * 2
    assert not any(SECRET in part for part in attached(mails))


async def test_forged_send_report_never_mails_the_given_address(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        auth_broker: Mosquitto) -> None:
    config = notify_config(config, smtp_server)
    broker, prefix = faxcore_broker(auth_broker), "faxcore"
    async with consuming(Notifier(database, config.smtp, config.notify), broker, prefix):
        forged = await publish(broker, prefix, line, EventKind.FAX_SEND_FAILED,
                               {"job_id": 77, "to": "+33100000000", "reason": "x",
                                "attempts": 1, "report_to": "attacker@evil.example"})
        await wait_for(settled(database, forged, NotificationState.FAILED))
    assert "attacker@evil.example" not in {r.address for r in await rows_of(database, forged)}
    assert smtp_server.mailbox.snapshot() == []


async def test_forged_voicemail_of_another_lines_message_purges_nothing(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        auth_broker: Mosquitto, tmp_path: Path) -> None:
    config = notify_config(config, smtp_server)
    lines = LineService(database)
    await lines.set(line, keep_voicemail="no")
    await lines.add(OTHER_LINE, "sip-pass-456", mode="voicemail")
    await NotifyService(database).add(OTHER_LINE, "owner@example.com")
    store = VoicemailStore(database, config)
    wav = write_wav(tmp_path / "mine.wav", 1.0).read_bytes()
    theirs = await store.save_message(await store.line_id(OTHER_LINE), "+33611111111",
                                      write_wav(tmp_path / "theirs.wav", 2.0).read_bytes())
    mine = await store.save_message(await store.line_id(line), "+33622222222", wav)
    broker, prefix = faxcore_broker(auth_broker), "faxcore"
    # The outbox already holds both messages' own events: the bus is the only source here.
    async with consuming(notifier_for(config, database), broker, prefix):
        forged = await publish(broker, prefix, line, EventKind.VOICEMAIL_MESSAGE,
                               {"message_id": theirs.id, "duration_s": 1.0,
                                "audio_path": theirs.path})
        await wait_for(settled(database, forged, NotificationState.FAILED))
        own = await publish(broker, prefix, line, EventKind.VOICEMAIL_MESSAGE,
                            {"message_id": mine.id, "duration_s": 9.0,
                             "audio_path": theirs.path})
        await wait_for(settled(database, own, NotificationState.SENT))
        await wait_for(lambda: _purged(store, line))
    assert [m.id for m in await store.list(OTHER_LINE)] == [theirs.id]
    assert Path(theirs.path).exists()
    mails = smtp_server.mailbox.snapshot()
    assert {m["X-Faxcore-Event"] for m in mails} == {f"voicemail.message {own}"}
    assert attached(mails) == [wav, wav]
    assert all("+33622222222" in str(m["Subject"]) and "(0:01)" in str(m["Subject"])
               for m in mails)


async def _purged(store: VoicemailStore, line: str) -> bool:
    return await store.list(line) == []
