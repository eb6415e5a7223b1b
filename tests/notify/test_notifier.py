"""The notifier against a real SMTP server: attachments, formats, retries, exactly once."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from pydub import AudioSegment
from pypdf import PdfReader
from sqlalchemy import select

from faxcore.config import FaxcoreConfig
from faxcore.events import EventKind, emit
from faxcore.events.relay import BrokerAddress
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.notify.notifier import Notifier
from faxcore.notify.states import NotificationState
from faxcore.runtime.notifier import notifier_for
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.storage.db import Database
from faxcore.storage.models import Notification, OutboxEvent
from faxcore.voicemail.store import VoicemailStore
from tests.events.conftest import (
    AckMeetsStopBroker,
    CancelWrappingBroker,
    Mosquitto,
    stops_within_seconds,
)
from tests.notify.conftest import LINE, SmtpServer, notify_config, write_pdf, write_wav


@asynccontextmanager
async def notifier_running(notifier: Notifier) -> AsyncIterator[None]:
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(Supervisor().run([notifier.delivery_loop(),
                                                notifier.outbox_loop()]))
        try:
            yield
        finally:
            task.cancel()


async def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def emit_one(db: Database, kind: EventKind, data: dict[str, Any]) -> str:
    async with db.session() as session:
        return await emit(session, line=LINE, kind=kind, data=data)


async def states(db: Database) -> list[Notification]:
    async with db.session(read_only=True) as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


def attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())  # type: ignore[arg-type]


async def test_received_fax_mails_each_address_with_the_pdf(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path) -> None:
    config = notify_config(config, smtp_server)
    await LineService(database).set(line, mail_from="fax@client.fr",
                                    mail_from_name="Cabinet Dupont")
    pdf = write_pdf(tmp_path / "fax.pdf", 3)
    event_id = await emit_one(database, EventKind.FAX_RECEIVED,
                              {"fax_id": 5, "pages": 3, "pdf_path": str(pdf),
                               "caller": "+33987654321"})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _all_state(database, NotificationState.SENT))
    mails = smtp_server.mailbox.snapshot()
    assert sorted(m["To"] for m in mails) == ["alice@example.com", "bob@example.com"]
    for mail in mails:
        assert mail["Subject"] == "Fax reçu de +33987654321 (3 pages)"
        assert mail["From"] == "Cabinet Dupont <fax@client.fr>"
        assert event_id in mail["Message-ID"]
        assert not any(p.get_content_type() == "text/html" for p in mail.walk())
        (pdf_part,) = attachments(mail)
        assert pdf_part.get_filename() == "fax-5.pdf"
        assert len(PdfReader(io.BytesIO(pdf_part.get_content())).pages) == 3


async def _count(server: SmtpServer, expected: int) -> bool:
    return len(server.mailbox.snapshot()) >= expected


async def test_html_english_line_gets_html_with_text_alternative(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig) -> None:
    config = notify_config(config, smtp_server)
    await LineService(database).set(line, mail_format="html", language="en")
    await emit_one(database, EventKind.FAX_SEND_FAILED,
                   {"job_id": 9, "to": "+3311<b>", "reason": "busy", "attempts": 3,
                    "report_to": "sender@example.org"})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _count(smtp_server, 1))
    (mail,) = smtp_server.mailbox.snapshot()
    assert mail["To"] == "sender@example.org"
    assert mail["Subject"] == "Fax to +3311<b> failed"
    assert mail["From"] == "Faxcore <fax@example.net>"
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and text is not None
    assert "+3311&lt;b&gt;" in html.get_content() and "Attempts: 3" in html.get_content()
    assert "Reason: busy" in text.get_content()


@pytest.mark.parametrize("audio_format", ["mp3", "ogg"])
async def test_voicemail_audio_in_the_line_format_with_its_duration_then_purged(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path, audio_format: str) -> None:
    """keep_voicemail=no: once every address has it, the mailbox no longer holds it (V8)."""
    config = notify_config(config, smtp_server)
    await LineService(database).set(line, audio_format=audio_format, keep_voicemail="no")
    store = VoicemailStore(database, config)
    line_id = await store.line_id(line)
    wav = write_wav(tmp_path / "msg.wav", 3.0)
    message = await store.save_message(line_id, "+33611223344", wav.read_bytes(), urgent=True)
    async with notifier_running(notifier_for(config, database)):
        await wait_for(lambda: _count(smtp_server, 2))
        await wait_for(lambda: _gone(Path(message.path)))
    assert await store.list(line) == []
    for mail in smtp_server.mailbox.snapshot():
        assert mail["Subject"] == "[Urgent] Nouveau message vocal de +33611223344 (0:03)"
        (audio,) = attachments(mail)
        assert audio.get_filename() == f"message-{message.id}.{audio_format}"
        decoded = AudioSegment.from_file(io.BytesIO(audio.get_content()), format=audio_format)
        assert abs(decoded.duration_seconds - 3.0) < 0.15


async def _gone(path: Path) -> bool:
    return not path.exists()


async def test_kept_voicemail_stays_on_disk(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path) -> None:
    config = notify_config(config, smtp_server)
    wav = write_wav(tmp_path / "keep.wav", 1.0)
    await emit_one(database, EventKind.VOICEMAIL_MESSAGE,
                   {"message_id": 1, "duration_s": 1.0, "audio_path": str(wav)})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _count(smtp_server, 2))
    (audio,) = attachments(smtp_server.mailbox.snapshot()[0])
    assert audio.get_content_type() == "audio/wav"
    assert wav.exists()


async def test_oversized_attachment_is_replaced_by_a_notice(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path) -> None:
    config = notify_config(config, smtp_server, max_attachment_mb=0.0001)
    pdf = write_pdf(tmp_path / "big.pdf", 2)
    await emit_one(database, EventKind.FAX_RECEIVED,
                   {"fax_id": 6, "pages": 2, "pdf_path": str(pdf)})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _count(smtp_server, 2))
    mail = smtp_server.mailbox.snapshot()[0]
    assert attachments(mail) == []
    body = mail.get_body(("plain",))
    assert body is not None
    assert "La pièce jointe fax-6.pdf" in body.get_content()
    assert "dépasse la taille maximale" in body.get_content()


async def test_preferences_choose_who_hears_of_a_plain_voicemail(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path) -> None:
    config = notify_config(config, smtp_server)
    notify = NotifyService(database)
    await notify.add(line, "alice@example.com", "voicemail_urgent")
    await notify.add(line, "bob@example.com", "fax")
    await notify.add(line, "carol@example.com", "voicemail")
    wav = write_wav(tmp_path / "m.wav", 0.5)
    await emit_one(database, EventKind.VOICEMAIL_MESSAGE,
                   {"message_id": 2, "duration_s": 0.5, "audio_path": str(wav)})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _all_state(database, NotificationState.SENT))
    # Every recipient is queued with the event, in one transaction: once the
    # queue is all sent, no other mail can follow.
    assert [n.address for n in await states(database)] == ["carol@example.com"]
    assert [m["To"] for m in smtp_server.mailbox.snapshot()] == ["carol@example.com"]


@pytest.mark.slow
async def test_smtp_down_then_refusing_then_back_delivers_each_mail_once(
        database: Database, line: str, config: FaxcoreConfig, tmp_path: Path) -> None:
    server = SmtpServer()  # not started: connections are refused
    config = notify_config(config, server)
    pdf = write_pdf(tmp_path / "f.pdf", 1)
    ids = [await emit_one(database, EventKind.FAX_RECEIVED,
                          {"fax_id": n, "pages": 1, "pdf_path": str(pdf)}) for n in range(5)]
    # Two notifiers on one database, as `faxcore serve` and `faxcore notifier` may be.
    first = Notifier(database, config.smtp, config.notify)
    second = Notifier(database, config.smtp, config.notify)
    try:
        async with notifier_running(first), notifier_running(second):
            await wait_for(lambda: _all_retried(database, 10, "Connect call failed"))
            server.mailbox.refuse = True
            server.start()
            await wait_for(lambda: _all_retried(database, 10, "451"))
            assert {n.state for n in await states(database)} == {NotificationState.PENDING}
            assert server.mailbox.refused >= 10 and server.mailbox.snapshot() == []
            server.mailbox.refuse = False
            await wait_for(lambda: _all_state(database, NotificationState.SENT))
    finally:
        server.stop()
    # Both notifiers are stopped and the server with them: a mail sent twice is
    # in the mailbox now or was never sent, no waiting needed.
    assert len(await states(database)) == 10
    received = Counter((m["Message-ID"], m["To"]) for m in server.mailbox.snapshot())
    assert len(received) == 10 and set(received.values()) == {1}
    assert {mid.split(".")[0].strip("<") for mid, _ in received} == set(ids)


async def _all_retried(db: Database, count: int, error: str) -> bool:
    rows = await states(db)
    return len(rows) == count and all(n.attempts >= 2 and error in n.last_error for n in rows)


async def _all_state(db: Database, state: str) -> bool:
    rows = await states(db)
    return bool(rows) and all(n.state == state for n in rows)


async def test_last_attempt_marks_the_mail_failed(
        database: Database, line: str, config: FaxcoreConfig) -> None:
    server = SmtpServer()  # never started
    config = notify_config(config, server, max_attempts=2)
    await emit_one(database, EventKind.FAX_FAILED, {"reason": "no carrier"})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _all_state(database, NotificationState.FAILED))
    rows = await states(database)
    assert [n.attempts for n in rows] == [2, 2]
    assert all("127.0.0.1" in n.last_error for n in rows)


async def test_same_event_ingested_twice_queues_one_mail_per_address(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig) -> None:
    from faxcore.events.outbox import Event
    from faxcore.storage.models import utcnow

    config = notify_config(config, smtp_server)
    notifier = Notifier(database, config.smtp, config.notify)
    event = Event(id="9f0d1c1e-4b44-4f4e-8a53-2a4c1f8c0c11", kind=EventKind.FAX_FAILED,
                  time=utcnow(), line=LINE, data={"reason": "r"})
    assert await notifier.ingest(event) == 2
    assert await notifier.ingest(event) == 0
    assert len(await states(database)) == 2


async def test_notifier_fed_from_mqtt_mails_once_even_with_the_outbox_too(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        system_broker: str) -> None:
    import uuid

    from faxcore.events.relay import BrokerAddress, OutboxRelay

    config = notify_config(config, smtp_server)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    broker = BrokerAddress.parse(system_broker)
    from_bus = Notifier(database, config.smtp, config.notify)
    from_outbox = Notifier(database, config.smtp, config.notify)
    relay = OutboxRelay(database, broker, prefix, poll_interval=0.05)

    async def bus() -> None:
        await from_bus.consume_mqtt(broker, prefix, f"{prefix}-notifier")
    supervisor = Supervisor()

    # The notifier's persistent session exists before anything is published:
    # the broker keeps the event for it however late its client connects.
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"{prefix}-notifier",
                              clean_session=False) as session:
        await session.subscribe(f"{prefix}/#", qos=1)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(relay.run()),
                 tg.create_task(supervisor.run([from_bus.delivery_loop(), Loop("bus", bus)]))]
        first = await emit_one(database, EventKind.FAX_FAILED, {"reason": "no carrier"})
        await wait_for(lambda: _count(smtp_server, 2))
        tasks.append(tg.create_task(supervisor.run([from_outbox.delivery_loop(),
                                                     from_outbox.outbox_loop()])))
        # The outbox is read oldest first: once a later event is consumed from
        # it, the first one was too, and queued nothing new.
        later = await emit_one(database, EventKind.FAX_FAILED, {"reason": "later"})
        await wait_for(lambda: _consumed(database, later))
        for task in tasks:
            task.cancel()
    ours = [n for n in await states(database) if n.event_id == first]
    assert len(ours) == 2
    assert all(n.state == NotificationState.SENT and n.attempts == 1 for n in ours)
    mails = [m for m in smtp_server.mailbox.snapshot() if first in m["Message-ID"]]
    assert sorted(m["To"] for m in mails) == ["alice@example.com", "bob@example.com"]
    assert mails[0]["Subject"] == "Échec de réception d’un fax de numéro masqué"


async def _consumed(db: Database, event_id: str) -> bool:
    async with db.session(read_only=True) as session:
        row = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id))
    return row is not None and row.consumed_at is not None
async def test_unreadable_attachment_fails_its_row_after_max_attempts_and_mail_goes_on(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        tmp_path: Path) -> None:
    """A PDF path that is a folder (real ``IsADirectoryError``) costs that row only (11.6)."""
    config = notify_config(config, smtp_server, max_attempts=3)
    unreadable = tmp_path / "fax.pdf"
    unreadable.mkdir()
    bad = await emit_one(database, EventKind.FAX_RECEIVED,
                         {"fax_id": 7, "pages": 1, "pdf_path": str(unreadable),
                          "caller": "+33987654321"})
    async with notifier_running(Notifier(database, config.smtp, config.notify)):
        await wait_for(lambda: _all_state(database, NotificationState.FAILED))
        await emit_one(database, EventKind.FAX_FAILED, {"reason": "no carrier"})
        await wait_for(lambda: _count(smtp_server, 2))
    failed = [r for r in await states(database) if r.event_id == bad]
    assert len(failed) == 2
    for row in failed:
        assert (row.state, row.attempts) == (NotificationState.FAILED, 3)
        assert "Is a directory" in row.last_error
    assert all(m["Subject"].startswith("Échec") for m in smtp_server.mailbox.snapshot())


async def test_a_notifier_whose_host_clock_is_ahead_leaves_a_claimed_mail_alone(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims are on the database's clock (11.11). The host clock is the one fake: a
    machine's clock cannot be moved for one test; this host runs 6 minutes ahead."""
    from datetime import timedelta

    from faxcore.storage.models import utcnow

    config = notify_config(config, smtp_server)
    await emit_one(database, EventKind.FAX_FAILED, {"reason": "no carrier"})
    sending = Notifier(database, config.smtp, config.notify)
    await sending.consume_outbox()
    [first, _] = await states(database)
    assert await sending._claim(first.id, first.attempts)  # being sent right now
    monkeypatch.setattr("faxcore.notify.notifier.utcnow",
                        lambda: utcnow() + timedelta(minutes=6))
    ahead = Notifier(database, config.smtp, config.notify)
    assert await ahead.deliver_due() == 1  # only the other, unclaimed row
    assert [m["To"] for m in smtp_server.mailbox.snapshot()] == ["bob@example.com"]


async def test_a_notifier_stopped_while_it_connects_to_the_bus_stops(
        database: Database, config: FaxcoreConfig, smtp_server: SmtpServer,
        frozen_broker: Mosquitto) -> None:
    """The bus consumer, like the relay, takes a cancel wrapped by aiomqtt as a stop."""
    config = notify_config(config, smtp_server)
    notifier = Notifier(database, config.smtp, config.notify)
    await stops_within_seconds(
        notifier.consume_mqtt(BrokerAddress.parse(frozen_broker.url), "faxcore"))
    await stops_within_seconds(
        notifier.consume_mqtt(CancelWrappingBroker("127.0.0.1", 1), "faxcore"))


async def test_a_notifier_stopped_as_its_subscription_is_acked_stops(
        database: Database, config: FaxcoreConfig, smtp_server: SmtpServer) -> None:
    """Python 3.11's ``wait_for`` swallows a cancel that meets the SUBACK: the consumer
    would then wait on a quiet bus for good."""
    config = notify_config(config, smtp_server)
    notifier = Notifier(database, config.smtp, config.notify)
    task = asyncio.create_task(notifier.consume_mqtt(AckMeetsStopBroker("127.0.0.1", 1),
                                                     "faxcore"))
    await asyncio.wait({task}, timeout=5)
    assert task.done(), "still waiting for messages 5 s after it was stopped"
    assert task.cancelled()
