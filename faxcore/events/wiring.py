"""What ``faxcore serve`` runs for events: outbox pruning, the MQTT relay when a broker is set."""

from __future__ import annotations

import asyncio
import logging

from faxcore.config import FaxcoreConfig
from faxcore.events.relay import BrokerAddress, OutboxRelay
from faxcore.events.retention import pruning_loop
from faxcore.storage.db import Database

log = logging.getLogger(__name__)


def start_events(tg: asyncio.TaskGroup, config: FaxcoreConfig,
                 db: Database) -> list[asyncio.Task[None]]:
    """Start pruning, and the relay if ``mqtt.url`` is set; returns the tasks to cancel at stop."""
    tasks = [tg.create_task(pruning_loop(config, db), name="event-outbox-pruning")]
    if not config.mqtt.url:
        log.info("mqtt.url is empty: events stay in the outbox for the notifier only")
        return tasks
    relay = OutboxRelay(db, BrokerAddress.of(config.mqtt), config.mqtt.topic_prefix)
    return [*tasks, tg.create_task(relay.run(), name="event-relay")]
