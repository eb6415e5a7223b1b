"""``faxcore notifier`` as its own process: events from the real broker, mail to real SMTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import aiomqtt

from faxcore.config import FaxcoreConfig
from faxcore.events import EventKind, emit
from faxcore.events.relay import BrokerAddress, OutboxRelay
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from tests.notify.conftest import LINE, SmtpServer


async def test_notifier_process_mails_events_from_mqtt_and_stops_on_sigterm(
        config: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path,
        system_broker: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    client_id = f"{prefix}-notifier"
    broker = BrokerAddress.parse(system_broker)
    # The notifier's persistent session exists before it starts: nothing published
    # while it connects can be missed.
    async with aiomqtt.Client(broker.host, broker.port, identifier=client_id,
                              clean_session=False) as session:
        await session.subscribe(f"{prefix}/#", qos=1)
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        await LineService(db).add(LINE, "abcd1234", language="en")
        await NotifyService(db).add(LINE, "ops@example.com", "voicemail")
        async with db.session() as s:
            await emit(s, line=LINE, kind=EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL,
                       data={"messages": 95, "max_messages": 100})
        async with asyncio.TaskGroup() as tg:
            relay = tg.create_task(OutboxRelay(db, broker, prefix, poll_interval=0.05).run())
            env = {k: v for k, v in os.environ.items() if not k.startswith("FAXCORE_")}
            env.update({
                "FAXCORE_DATA_DIR": str(config.data_dir), "FAXCORE_SMTP_URL": smtp_server.url,
                "FAXCORE_MQTT_URL": system_broker, "FAXCORE_MQTT_TOPIC_PREFIX": prefix,
                "FAXCORE_NOTIFY_MQTT_CLIENT_ID": client_id, "FAXCORE_NOTIFY_POLL_INTERVAL": "0.1",
            })
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "faxcore", "notifier", env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                async with asyncio.timeout(30):
                    while not smtp_server.mailbox.snapshot():
                        await asyncio.sleep(0.1)
            finally:
                proc.send_signal(signal.SIGTERM)
                _, stderr = await proc.communicate()
                relay.cancel()
    (mail,) = smtp_server.mailbox.snapshot()
    assert mail["To"] == "ops@example.com"
    assert mail["Subject"] == f"Your mailbox {LINE} is nearly full (95/100)"
    assert proc.returncode == 0, stderr.decode()
