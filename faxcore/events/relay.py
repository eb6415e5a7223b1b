"""The relay: outbox rows to MQTT, QoS 1, in order, marked published after PUBACK.

One row at a time, oldest first: the next event is published only once the
broker acknowledged the previous one, so events of a line arrive in the
order they were written. When the broker is unreachable the rows simply
stay unpublished; the relay reconnects with a growing delay and resumes from
the oldest. A PUBACK lost with the connection means the event is published
again after reconnecting (at least once): subscribers deduplicate on the
event ``id``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiomqtt

from faxcore.cancellation import stop_if_cancelled
from faxcore.config import MqttConfig
from faxcore.events.errors import BusUnavailable
from faxcore.events.kinds import parse_kind, topic
from faxcore.events.outbox import mark_published, unpublished
from faxcore.storage.db import Database

log = logging.getLogger(__name__)


# CONNACK codes (MQTT 3.1.1 and 5) that mean the broker refused who we are.
_AUTH_REFUSED = {4, 5, 134, 135}


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is and how faxcore proves who it is (``mqtt.*``)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Accepts ``mqtt://`` and ``mqtts://`` URLs; ``BusUnavailable`` names what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise BusUnavailable(f"mqtt.url {url!r}: expected mqtt://host[:port] or mqtts://")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise BusUnavailable(f"mqtt.url {url!r}: bad port") from exc
        return cls(parts.hostname, port,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls)

    @classmethod
    def of(cls, mqtt: MqttConfig) -> BrokerAddress:
        """The broker of ``mqtt.url`` with ``mqtt.username``/``password``/``tls``/``ca_file``."""
        url = cls.parse(mqtt.url)
        if mqtt.ca_file and not Path(mqtt.ca_file).is_file():
            raise BusUnavailable(f"mqtt.ca_file {mqtt.ca_file!r}: no such file")
        return replace(url, username=mqtt.username or url.username,
                       password=mqtt.password or url.password, tls=mqtt.tls or url.tls,
                       ca_file=mqtt.ca_file or None)

    def client(self, identifier: str | None = None,
               clean_session: bool | None = None) -> aiomqtt.Client:
        """An aiomqtt client for this broker (not yet connected)."""
        tls = ssl.create_default_context(cafile=self.ca_file) if self.tls else None
        return aiomqtt.Client(self.host, self.port, username=self.username,
                              password=self.password, identifier=identifier,
                              clean_session=clean_session, timeout=10.0, tls_context=tls)

    def explain(self, exc: aiomqtt.MqttError) -> tuple[int, str]:
        """Log level and text for a broker error: a refused login is an error to fix."""
        code = getattr(exc, "rc", None)
        code = getattr(code, "value", code)  # paho's ReasonCode (MQTT 5) or an int
        if isinstance(code, int) and code in _AUTH_REFUSED:
            who = f"user {self.username!r}" if self.username else "an anonymous client"
            return logging.ERROR, (f"broker {self.host}:{self.port} refused {who} ({exc}): "
                                   "check mqtt.username and mqtt.password")
        return logging.WARNING, f"broker {self.host}:{self.port} unavailable ({exc})"


class OutboxRelay:
    """Publishes the outbox to the broker until cancelled."""

    def __init__(self, db: Database, broker: BrokerAddress, topic_prefix: str, *,
                 poll_interval: float = 0.2, retry_initial: float = 0.5,
                 retry_max: float = 15.0) -> None:
        self.db = db
        self.broker = broker
        self.prefix = topic_prefix
        self.poll_interval = poll_interval
        self.retry_initial = retry_initial
        self.retry_max = retry_max

    async def run(self) -> None:
        """Connect, drain, wait for more; on any broker error wait and reconnect."""
        delay = self.retry_initial
        while True:
            try:
                async with self.broker.client() as client:
                    log.info("event relay connected to %s:%d", self.broker.host, self.broker.port)
                    delay = self.retry_initial
                    while True:
                        published = await self.publish_pending(client)
                        stop_if_cancelled()  # a publish may have swallowed it
                        if not published:
                            await asyncio.sleep(self.poll_interval)
            except aiomqtt.MqttError as exc:
                stop_if_cancelled()
                level, text = self.broker.explain(exc)
                log.log(level, "event relay: %s; retrying in %.1f s", text, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    async def publish_pending(self, client: aiomqtt.Client) -> int:
        """Publish what is waiting, in order; returns how many went out."""
        async with self.db.session(read_only=True) as session:
            rows = await unpublished(session)
        for row in rows:
            await client.publish(topic(self.prefix, row.line, parse_kind(row.kind)),
                                 row.payload, qos=1)
            async with self.db.session() as session:
                await mark_published(session, row.id)
        return len(rows)
