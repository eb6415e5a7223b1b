"""The relay publishes the outbox to a real Mosquitto: QoS 1, in order, after PUBACK only."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import jsonschema
import pytest
from sqlalchemy import select

from faxcore.events import EventKind, emit, schema_for
from faxcore.events.errors import BusUnavailable
from faxcore.events.relay import BrokerAddress, OutboxRelay
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from tests.events.conftest import (
    AckMeetsStopBroker,
    CancelWrappingBroker,
    Mosquitto,
    stops_within_seconds,
)

LINE = "+33123456789"


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(relay.run())
        try:
            yield
        finally:
            task.cancel()


async def _emit_failures(db: Database, count: int, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        async with db.session() as session:
            ids.append(await emit(session, line=LINE, kind=EventKind.FAX_FAILED,
                                  data={"reason": f"event {n}"}))
    return ids


async def _receive(client: aiomqtt.Client, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        async for message in client.messages:
            got.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]
            if len(got) == count:
                return got
    return got


async def _receive_new(client: aiomqtt.Client, wanted: list[str]) -> list[dict[str, Any]]:
    """The events of ``wanted`` in arrival order, once each.

    QoS 1 is at least once: a message whose PUBACK was in flight when the
    broker stopped comes again after it restarts; consumers deduplicate on id.
    """
    got: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(30):
        async for message in client.messages:
            event = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            if event["id"] in wanted:
                got.setdefault(event["id"], event)
            if len(got) == len(wanted):
                break
    return list(got.values())


async def test_event_reaches_a_subscriber_and_is_marked_published(
        database: Database, system_broker: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    broker = BrokerAddress.parse(system_broker)
    async with broker.client() as sub:
        await sub.subscribe(f"{prefix}/#", qos=1)
        async with database.session() as session:
            event_id = await emit(session, line=LINE, kind=EventKind.FAX_RECEIVED,
                                  data={"fax_id": 1, "pages": 2, "pdf_path": "/f/1.pdf"})
        async with running(OutboxRelay(database, broker, prefix, poll_interval=0.05)):
            async with asyncio.timeout(20):
                message = await anext(aiter(sub.messages))
            for _ in range(100):
                async with database.session(read_only=True) as session:
                    row = await session.scalar(select(OutboxEvent))
                if row is not None and row.published_at is not None:
                    break
                await asyncio.sleep(0.05)
    assert str(message.topic) == f"{prefix}/33123456789/fax/received"
    assert message.qos == 1
    payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
    jsonschema.validate(payload, schema_for(EventKind.FAX_RECEIVED))
    assert payload["id"] == event_id
    assert row is not None and row.published_at is not None


@pytest.mark.slow
async def test_broker_stopped_during_ten_events_then_all_arrive_in_order(
        database: Database, own_broker: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="faxcore.events.relay")
    broker = BrokerAddress.parse(own_broker.url)
    relay = OutboxRelay(database, broker, "faxcore", poll_interval=0.05, retry_initial=0.2,
                        retry_max=0.5)
    # A persistent session: the broker keeps QoS 1 messages for it while it is away.
    subscriber = aiomqtt.Client(broker.host, broker.port, identifier="test-sub",
                                clean_session=False)
    async with subscriber:
        await subscriber.subscribe("faxcore/#", qos=1)
    async with running(relay):
        first = await _emit_failures(database, 2)
        async with subscriber:
            assert [e["id"] for e in await _receive(subscriber, 2)] == first
        await asyncio.to_thread(own_broker.stop)
        seen = len(caplog.records)
        during = await _emit_failures(database, 10, start=2)
        # Two failed connections after the events were written: the relay has
        # had them in hand with no broker, and must have kept them.
        async with asyncio.timeout(20):
            while sum("unavailable" in r.getMessage() for r in caplog.records[seen:]) < 2:
                await asyncio.sleep(0.05)
        async with database.session(read_only=True) as session:
            waiting = await session.scalars(
                select(OutboxEvent.event_id).where(OutboxEvent.published_at.is_(None)))
            assert sorted(waiting) == sorted(during)
        await asyncio.to_thread(own_broker.start)
        async with subscriber:
            received = await _receive_new(subscriber, during)
    assert [e["id"] for e in received] == during
    assert [e["data"]["reason"] for e in received] == [f"event {n}" for n in range(2, 12)]


def test_broker_url_must_be_mqtt() -> None:
    assert BrokerAddress.parse("mqtt://u:p%40ss@h:1884") == BrokerAddress("h", 1884, "u", "p@ss")
    with pytest.raises(BusUnavailable, match="expected mqtt://host"):
        BrokerAddress.parse("http://h")


async def test_a_lines_events_are_published_in_commit_order_when_ids_were_taken_the_other_way(
        database: Database, system_broker: str) -> None:
    """The first transaction takes the lower id but commits last (11.11).

    On PostgreSQL a second writer of the same line waits for the first to
    commit; on SQLite the single writer already serialises them.
    """
    took_id, release = asyncio.Event(), asyncio.Event()
    commits: list[str] = []

    async def write(reason: str, before: asyncio.Event | None, hold: asyncio.Event | None) -> None:
        if before is not None:
            await before.wait()
        async with database.session() as session:
            await emit(session, line=LINE, kind=EventKind.FAX_FAILED, data={"reason": reason})
            took_id.set()
            if hold is not None:
                await hold.wait()
        commits.append(reason)

    async with asyncio.timeout(30), asyncio.TaskGroup() as tg:
        tg.create_task(write("took the first id", None, release))
        tg.create_task(write("took the second id", took_id, None))
        await took_id.wait()
        await asyncio.sleep(1.0)  # the second writer commits now, unless it must wait
        release.set()
    prefix = f"order-{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(database, BrokerAddress.parse(system_broker), prefix, poll_interval=0.05)
    async with BrokerAddress.parse(system_broker).client() as subscriber:
        await subscriber.subscribe(f"{prefix}/#", qos=1)
        async with running(relay):
            published = await _receive(subscriber, 2)
    assert [e["data"]["reason"] for e in published] == commits


async def test_a_relay_stopped_while_it_connects_stops_instead_of_reconnecting(
        database: Database, frozen_broker: Mosquitto) -> None:
    """aiomqtt wraps a cancel during connect in MqttError: the relay must not take it for
    a broker fault (serve's shutdown hung on this)."""
    relay = OutboxRelay(database, BrokerAddress.parse(frozen_broker.url), "faxcore")
    await stops_within_seconds(relay.run())
    wrapped = OutboxRelay(database, CancelWrappingBroker("127.0.0.1", 1), "faxcore")
    await stops_within_seconds(wrapped.run())


async def test_a_relay_stopped_as_its_puback_arrives_records_the_event_and_stops(
        database: Database) -> None:
    """Python 3.11's ``wait_for`` swallows a cancel that meets the PUBACK: the relay
    polled on for good and a test's teardown hung (the MQTT-over-TLS CI failure)."""
    await _emit_failures(database, 1)
    task = asyncio.create_task(
        OutboxRelay(database, AckMeetsStopBroker("127.0.0.1", 1), "faxcore",
                    poll_interval=0.05).run())
    await asyncio.wait({task}, timeout=5)
    assert task.done(), "still polling 5 s after it was stopped: the stop was swallowed"
    assert task.cancelled()
    async with database.session(read_only=True) as session:
        assert await session.scalar(select(OutboxEvent.published_at)) is not None
