"""faxcore on a broker that requires a login and applies the shipped ACL."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import select

from faxcore.config import MqttConfig
from faxcore.events import EventKind, emit
from faxcore.events.relay import BrokerAddress, OutboxRelay
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from tests.events.conftest import BUS_USERS, Mosquitto
from tests.events.test_relay import running
from tests.tls import Certificate

LINE = "+33123456789"
TOPIC = "faxcore/33123456789/fax/failed"


def login(broker: Mosquitto, user: str, password: str | None = None) -> BrokerAddress:
    return BrokerAddress.of(MqttConfig(
        url=broker.url, username=user,
        password=BUS_USERS[user] if password is None else password))


async def emit_failure(db: Database, reason: str) -> str:
    async with db.session() as session:
        return await emit(session, line=LINE, kind=EventKind.FAX_FAILED, data={"reason": reason})


async def first_event(reader: aiomqtt.Client) -> dict[str, object]:
    async with asyncio.timeout(20):
        message = await anext(aiter(reader.messages))
    event: dict[str, object] = json.loads(bytes(message.payload))  # type: ignore[arg-type]
    return event


async def test_relay_publishes_with_its_login_and_a_reader_receives(
        database: Database, auth_broker: Mosquitto) -> None:
    reader = login(auth_broker, "faxcore-reader")
    async with reader.client() as sub:
        await sub.subscribe("faxcore/#", qos=1)
        event_id = await emit_failure(database, "no carrier")
        async with running(OutboxRelay(database, login(auth_broker, "faxcore"), "faxcore",
                                       poll_interval=0.05)):
            event = await first_event(sub)
    assert event["id"] == event_id


async def test_wrong_password_is_logged_as_a_refused_login(
        database: Database, auth_broker: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="faxcore.events.relay")
    relay = OutboxRelay(database, login(auth_broker, "faxcore", "wrong-password"), "faxcore",
                        retry_initial=0.1, retry_max=0.2)
    async with running(relay):
        async with asyncio.timeout(20):
            while not caplog.records:
                await asyncio.sleep(0.05)
    record = caplog.records[0]
    assert record.levelno == logging.ERROR
    assert f"broker 127.0.0.1:{auth_broker.port} refused user 'faxcore'" in record.getMessage()
    assert "check mqtt.username and mqtt.password" in record.getMessage()


async def test_acl_refuses_another_user_publishing_on_faxcore_topics(
        database: Database, auth_broker: Mosquitto) -> None:
    reader = login(auth_broker, "faxcore-reader")
    async with reader.client() as sub:
        await sub.subscribe("faxcore/#", qos=1)
        forged = {"schema": 1, "id": str(uuid.uuid4()), "kind": "fax.failed",
                  "time": "2026-01-01T00:00:00+00:00", "line": LINE, "data": {"reason": "x"}}
        for user in ("intruder", "faxcore-reader"):
            async with login(auth_broker, user).client() as client:
                await client.publish(TOPIC, json.dumps(forged), qos=1)
        with pytest.raises(aiomqtt.MqttError, match="Not authorized"):
            async with aiomqtt.Client("127.0.0.1", auth_broker.port):
                pass  # anonymous: refused at connect
        # faxcore's own event, published after the forged ones, is the first to arrive.
        marker = await emit_failure(database, "marker")
        async with running(OutboxRelay(database, login(auth_broker, "faxcore"), "faxcore",
                                       poll_interval=0.05)):
            event = await first_event(sub)
    assert event["id"] == marker


def tls_login(broker: Mosquitto, user: str, ca_file: Path | None) -> BrokerAddress:
    return BrokerAddress.of(MqttConfig(url=broker.url, username=user, password=BUS_USERS[user],
                                       ca_file=str(ca_file) if ca_file else ""))


async def test_over_tls_the_relay_publishes_with_its_login_and_a_reader_receives(
        database: Database, tls_broker: tuple[Mosquitto, Certificate]) -> None:
    broker, certificate = tls_broker
    async with tls_login(broker, "faxcore-reader", certificate.cert).client() as sub:
        await sub.subscribe("faxcore/#", qos=1)
        event_id = await emit_failure(database, "no carrier")
        async with running(OutboxRelay(database, tls_login(broker, "faxcore", certificate.cert),
                                       "faxcore", poll_interval=0.05)):
            event = await first_event(sub)
    assert event["id"] == event_id


async def test_over_tls_a_broker_certificate_nobody_vouches_for_is_refused_and_logged(
        database: Database, tls_broker: tuple[Mosquitto, Certificate],
        caplog: pytest.LogCaptureFixture) -> None:
    """Without ``mqtt.ca_file`` the system CAs judge the self-signed broker: no event leaves."""
    broker, _ = tls_broker
    caplog.set_level(logging.WARNING, logger="faxcore.events.relay")
    await emit_failure(database, "never published")
    relay = OutboxRelay(database, tls_login(broker, "faxcore", None), "faxcore",
                        retry_initial=0.1, retry_max=0.2)
    async with running(relay):
        async with asyncio.timeout(20):
            while not caplog.records:
                await asyncio.sleep(0.05)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.records[0].getMessage()
    async with database.session(read_only=True) as session:
        assert await session.scalar(select(OutboxEvent.published_at)) is None
