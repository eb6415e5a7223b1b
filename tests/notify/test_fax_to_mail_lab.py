"""End to end in the lab: a fax received becomes an MQTT event and one e-mail per address.

``faxcore serve`` runs in-process against the lab PBX with a broker and an
SMTP server configured, so its relay and notifier run as in production; the
ATA faxes its own line a 2-page document over G.711.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema
import pytest
from pypdf import PdfReader

from faxcore.config import FaxcoreConfig, MqttConfig, NotifyConfig, SmtpConfig
from faxcore.events import EventKind, schema_for
from faxcore.events.relay import BrokerAddress
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.notify.states import NotificationState
from faxcore.storage.db import Database
from tests.calls.test_serve_lab import serving
from tests.lab_fixtures import LAB_LINE
from tests.notify.conftest import SmtpServer, notifications_of

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ADDRESSES = ("secretariat@example.com", "dr.martin@example.com", "archives@example.com")


async def _subscriber_event(client: aiomqtt.Client, station: str) -> dict[str, Any]:
    """This test's fax.received (earlier lab faxes' events may come first)."""
    async for message in client.messages:
        payload: dict[str, Any] = json.loads(bytes(message.payload))  # type: ignore[arg-type]
        if payload["kind"] == "fax.received" and payload["data"].get("remote_id") == station:
            return payload
    raise AssertionError("subscription ended")


def _mails_of(server: SmtpServer, event_id: str) -> list[EmailMessage]:
    return [m for m in server.mailbox.snapshot() if event_id in m["Message-ID"]]


async def test_lab_fax_gives_an_mqtt_event_and_one_mail_per_address_with_its_pdf(
        lab: Lab, lab_config: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path,
        system_broker: str) -> None:
    prefix = f"lab-{uuid.uuid4().hex[:8]}"
    station = f"E2E {prefix}"
    config = dataclasses.replace(
        lab_config, mqtt=MqttConfig(url=system_broker, topic_prefix=prefix),
        smtp=SmtpConfig(url=smtp_server.url, timeout=10.0, from_address="fax@example.net"),
        notify=NotifyConfig(poll_interval=0.1, retry_initial=0.5, retry_max=2.0))
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, mode="fax", mail_format="html", language="en")
        for address in ADDRESSES:
            await NotifyService(db).add(LAB_LINE, address, "fax")
    document = tmp_path / "two-pages.tif"
    write_synthetic_document(document, 2)
    broker = BrokerAddress.parse(system_broker)
    try:
        async with broker.client() as subscriber:
            await subscriber.subscribe(f"{prefix}/#", qos=1)
            async with serving(config) as served:
                outcome = await Ata(served).send_fax(LAB_LINE, document, mode="g711",
                                                     station_id=station)
                assert outcome.fax_ok, outcome
                async with asyncio.timeout(60):
                    event = await _subscriber_event(subscriber, station)
                    # Every mail of the event recorded as sent: the notifier is done with it.
                    while not await _all_sent(config.database_url, event["id"]):
                        await asyncio.sleep(0.1)
    finally:
        async with Database(config.database_url) as db:
            for address in ADDRESSES:
                await NotifyService(db).remove(LAB_LINE, address)
    jsonschema.validate(event, schema_for(EventKind.FAX_RECEIVED))
    assert event["line"] == LAB_LINE and event["data"]["pages"] == 2
    # Faxes received earlier in the session's lab are mailed too (their events
    # were waiting in the outbox); only this fax's mails are counted here.
    # serve has stopped, its notifier with it: a doubled mail is in the mailbox
    # now or was never sent.
    queued = await notifications_of(config.database_url, event["id"])
    assert sorted(n.address for n in queued) == sorted(ADDRESSES)
    mails = _mails_of(smtp_server, event["id"])
    assert sorted(m["To"] for m in mails) == sorted(ADDRESSES)
    for mail in mails:
        assert mail.get_body(("html",)) is not None
        (pdf,) = list(mail.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert len(PdfReader(io.BytesIO(pdf.get_content())).pages) == 2


async def _all_sent(db_url: str, event_id: str) -> bool:
    queued = await notifications_of(db_url, event_id)
    return bool(queued) and all(n.state == NotificationState.SENT for n in queued)
