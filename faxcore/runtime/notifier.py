"""``faxcore notifier``: the e-mail notifier as its own process, fed by MQTT or the outbox."""

from __future__ import annotations

import asyncio
import functools
import logging

from faxcore.config import FaxcoreConfig
from faxcore.events.outbox import Event
from faxcore.events.relay import BrokerAddress
from faxcore.notify.compose import LineMail
from faxcore.notify.errors import NotifyError
from faxcore.notify.notifier import AfterForward, Notifier
from faxcore.runtime.signals import stop_on_signals
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.voicemail.errors import MessageNotFound
from faxcore.voicemail.store import VoicemailStore

log = logging.getLogger(__name__)


def purge_forwarded(config: FaxcoreConfig, db: Database) -> AfterForward:
    """V8: a voicemail mailed to every address is purged from the mailbox (file, row, MWI)."""
    store = VoicemailStore(db, config)

    async def purge(event: Event, line: LineMail) -> None:
        message_id = int(str(event.data["message_id"]))
        try:
            if (await store.get(message_id)).line != line.number:
                log.error("line %s: message %d is another line's, not purged", line.number,
                          message_id)
                return
            await store.purge([message_id])
        except MessageNotFound:
            return  # already purged by its owner
        log.info("line %s: message %d purged after forwarding (keep_voicemail is off)",
                 line.number, message_id)
    return purge


def notifier_for(config: FaxcoreConfig, db: Database) -> Notifier:
    """The notifier of ``config``, purging forwarded voicemail through the mailbox store."""
    return Notifier(db, config.smtp, config.notify,
                    after_forward=purge_forwarded(config, db))


async def run_notifier(config: FaxcoreConfig, stop: asyncio.Event) -> None:
    """``faxcore notifier``: events from MQTT (or the outbox without a broker) until ``stop``."""
    if not config.smtp.url:
        raise NotifyError("smtp.url is empty: the notifier has nowhere to send e-mail")
    await upgrade(config.database_url)
    async with Database(config.database_url, echo=config.database.echo) as db:
        notifier = notifier_for(config, db)
        if config.mqtt.url:
            broker = BrokerAddress.of(config.mqtt)
            source = Loop("notifier-mqtt", functools.partial(
                notifier.consume_mqtt, broker, config.mqtt.topic_prefix,
                config.notify.mqtt_client_id))
        else:
            source = notifier.outbox_loop()
        async with asyncio.TaskGroup() as tg:
            worker = tg.create_task(Supervisor().run([notifier.delivery_loop(), source]),
                                    name="notifier")
            await stop.wait()
            worker.cancel()
    log.info("faxcore notifier stopped")


async def run_notifier_until_signalled(config: FaxcoreConfig) -> None:
    """``run_notifier`` with SIGTERM and SIGINT setting the stop event."""
    stop = asyncio.Event()
    with stop_on_signals(stop):
        await run_notifier(config, stop)
