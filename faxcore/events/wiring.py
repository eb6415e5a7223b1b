"""What ``faxcore serve`` runs for events: outbox pruning, the MQTT relay when a broker is set."""

from __future__ import annotations

import functools
import logging

from faxcore.config import FaxcoreConfig
from faxcore.events.relay import BrokerAddress, OutboxRelay
from faxcore.events.retention import prune_pass
from faxcore.runtime.supervisor import Loop
from faxcore.storage.db import Database

log = logging.getLogger(__name__)


def event_loops(config: FaxcoreConfig, db: Database) -> list[Loop]:
    """Pruning, and the relay if ``mqtt.url`` is set (run by the process supervisor)."""
    prune = Loop("event-outbox-pruning", functools.partial(prune_pass, config, db),
                 idle=config.events.prune_interval_seconds)
    if not config.mqtt.url:
        log.info("mqtt.url is empty: events stay in the outbox for the notifier only")
        return [prune]
    relay = OutboxRelay(db, BrokerAddress.of(config.mqtt), config.mqtt.topic_prefix)
    return [prune, Loop("event-relay", relay.run)]
