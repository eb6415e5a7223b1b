"""Routing decisions of the Stasis app that need no Asterisk: called numbers, own channels."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from faxcore.ari.client import AriClient, StuckRequest
from faxcore.ari.errors import AriUnavailable
from faxcore.ari.events import StasisEnd, StasisStart, parse_event
from faxcore.calls.app import StasisApp, called_number, calling_line
from faxcore.calls.calllog import CallLog
from faxcore.calls.handlers import Call
from faxcore.domain import LineInfo, LineMode
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from tests.ari.test_ari_client import AriServer
from tests.ari.test_ari_client import client as ari_client

CAPTURE = Path(__file__).parents[1] / "ari" / "captures" / "asterisk-22.10-events.jsonl"


def start_event(**changes: object) -> StasisStart:
    line = next(line for line in CAPTURE.read_text().splitlines() if '"StasisStart"' in line)
    data = json.loads(line)
    data.update(changes)
    event = parse_event(data)
    assert isinstance(event, StasisStart)
    return event


def test_called_number_follows_the_dialplan_contract() -> None:
    assert called_number(start_event(args=["inbound", "+33123456789"])) == "+33123456789"
    assert called_number(start_event(args=["from-line", "+33100000001", "0123456789"])) == (
        "0123456789")
    # Unknown arguments: the dialplan extension (+33100000001 in the capture).
    assert called_number(start_event(args=["other"])) == "+33100000001"


def test_calling_line_is_the_authenticated_line_of_from_line_calls_only() -> None:
    assert calling_line(start_event(args=["from-line", "+33100000001", "8500"])) == (
        "+33100000001")
    assert calling_line(start_event(args=["inbound", "+33123456789"])) == ""


async def test_channels_without_stasis_arguments_are_not_taken_as_calls(
        database: Database) -> None:
    app = StasisApp(AriClient("http://127.0.0.1:9", "u", "p", "faxcore"), CallLog(database))
    before = len(asyncio.all_tasks())
    async with asyncio.TaskGroup() as tg:
        app.dispatch(start_event(args=[]), tg)
        assert app.calls == {}
        assert len(asyncio.all_tasks()) == before  # no call task started


async def test_a_call_to_an_unknown_number_is_logged_even_when_asterisk_is_gone(
        database: Database) -> None:
    calllog = CallLog(database)
    async with AriClient("http://127.0.0.1:9", "u", "p", "faxcore", timeout=2) as ari:
        app = StasisApp(ari, calllog)
        async with asyncio.TaskGroup() as tg:
            app.dispatch(start_event(args=["inbound", "+33999999999"]), tg)
            assert list(app.calls) == ["1795402054.1"]
        assert app.calls == {}  # the call task ended and let go of the call
    (entry,) = await calllog.entries()
    assert (entry.channel_id, entry.called, entry.cause) == ("1795402054.1", "+33999999999", 1)
    assert entry.caller == "0612345678" and entry.ended_at is not None


def channel_event(kind: str, **changes: object) -> object:
    line = next(line for line in CAPTURE.read_text().splitlines() if f'"{kind}"' in line)
    data = json.loads(line)
    data.update(changes)
    return parse_event(data)


def test_only_a_hard_hangup_request_gives_the_calls_q850_cause() -> None:
    call = Call(AriClient("http://127.0.0.1:9", "u", "p", "faxcore"), start_event().channel,
                "+33100000001")
    for event in (channel_event("ChannelHangupRequest", cause=16, soft=False),
                  # Soft requests carry AST_SOFTHANGUP_* reasons: 32 is "explicit".
                  channel_event("ChannelHangupRequest", cause=32, soft=True),
                  channel_event("StasisEnd")):
        StasisApp._deliver(call, event)  # type: ignore[arg-type]
    assert call.gone.is_set() and call.cause == 16
    assert isinstance(channel_event("StasisEnd"), StasisEnd)



async def test_the_app_is_ready_only_when_its_own_user_event_comes_back(
        database: Database) -> None:
    """READY needs Asterisk to route to this socket: our probe's token, nobody else's."""
    app = StasisApp(AriClient("http://127.0.0.1:9", "u", "p", "faxcore"), CallLog(database))
    # As Asterisk 22.10 sent it in the lab for POST /events/user/faxcore-ready.
    echo = {"type": "ChannelUserevent", "timestamp": "2026-12-01T09:30:54.582+0000",
            "eventname": "faxcore-ready", "asterisk_id": "02:fc:00:00:00:01",
            "application": "faxcore"}
    async with asyncio.TaskGroup() as tg:
        app.dispatch(parse_event({**echo, "userevent": {"token": "someone-else"}}), tg)
        assert not app.ready.is_set()
        app.dispatch(parse_event({**echo, "userevent": {"token": app._ready_token}}), tg)
        assert app.ready.is_set()
async def _serve(database: Database, event: StasisStart) -> list[str]:
    """Dispatch one call with Asterisk gone; the callers its log entries got."""
    calllog = CallLog(database)
    async with (AriClient("http://127.0.0.1:9", "u", "p", "faxcore", timeout=2) as ari,
                asyncio.TaskGroup() as tg):
        StasisApp(ari, calllog).dispatch(event, tg)
    return [entry.caller for entry in await calllog.entries()]


async def test_a_hostile_caller_id_is_logged_cleaned_never_lost(database: Database) -> None:
    hostile = "+33,6\x1b[2J" + "1" * 200 + ",sound:tt-monkeys"
    event = start_event(args=["inbound", "+33999999999\r\nX"],
                        channel={"id": "c-hostile", "caller": {"number": hostile,
                                                               "name": "\x07" * 500}})
    assert await _serve(database, event) == ["+3362" + "1" * 16]  # 20 digits


async def test_a_line_presenting_another_lines_number_is_taken_as_itself(
        database: Database) -> None:
    lines = LineService(database)
    await lines.add("+33972100001", "Caller-line-1x")
    await lines.add("+33972100002", "Victim-line-2x")

    def from_line(channel_id: str, presented: str) -> StasisStart:
        return start_event(args=["from-line", "+33972100001", "+33999999999"],
                           channel={"id": channel_id, "caller": {"number": presented}})

    callers = []
    for channel_id, presented in (("c1", "0972100002"), ("c2", "+33972100002"),
                                  ("c3", "0611223344"), ("c4", "+33972100001")):
        callers = await _serve(database, from_line(channel_id, presented))
    assert callers == ["+33972100001", "+33972100001", "0611223344", "+33972100001"]


@pytest.fixture
async def server() -> AsyncIterator[AriServer]:
    """The loopback ARI of the client tests, answering ``/channels/1.1/answer``."""
    ari_server = AriServer()
    await ari_server.start()
    try:
        yield ari_server
    finally:
        await ari_server.stop()


async def test_a_call_stuck_in_asterisk_is_not_hung_up_again_and_is_reported(
        database: Database, server: AriServer) -> None:
    """A channel whose request got no answer gets no more requests (each would block one
    more Asterisk thread): its log entry is closed as stuck, with a ``call.stuck`` event."""
    await LineService(database).add("+33972100001", "Stuck-line-1x")
    request = StuckRequest("POST", "/bridges/b1/addChannel", 0.0)

    async def joins_a_deadlocked_bridge(call: Call, line: LineInfo) -> None:
        call.ari.stuck[call.id] = request  # as AriClient records a request that timed out

    calllog = CallLog(database)
    async with (ari_client(server.port) as ari, asyncio.TaskGroup() as tg):
        app = StasisApp(ari, calllog, handlers={LineMode.FAX: joins_a_deadlocked_bridge})
        app.dispatch(start_event(args=["inbound", "+33972100001"], channel={"id": "1.1"}), tg)
    assert ("POST", "/channels/1.1/answer") in [(m, p) for m, p, _ in server.requests]
    assert not [p for m, p, _ in server.requests if m == "DELETE"]
    (entry,) = await calllog.entries(["1.1"])
    assert entry.ended_at is not None
    assert entry.detail == "stuck in Asterisk: POST /bridges/b1/addChannel got no answer"
    async with database.session(read_only=True) as session:
        kinds = list(await session.scalars(select(OutboxEvent.kind)))
    assert kinds.count("call.stuck") == 1


async def test_a_call_cut_off_by_an_asterisk_crash_is_logged_as_gone_once_asterisk_is_back(
        database: Database, server: AriServer, caplog: pytest.LogCaptureFixture) -> None:
    """Losing Asterisk mid-call is not the end of the story: the call stays open
    until the reconnection's reconcile tells whether its channel is gone."""
    await LineService(database).add("+33972100002", "Crash-line-1x")
    port = server.port
    cut_off = asyncio.Event()

    async def asterisk_dies_mid_call(call: Call, line: LineInfo) -> None:
        await server.stop()
        try:
            await call.ari.answer(call.id)
        except AriUnavailable:
            cut_off.set()
            raise

    async def hang_up_failed() -> None:
        while not any("hangup of 1.1 failed" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.05)

    calllog = CallLog(database)
    with caplog.at_level(logging.WARNING, logger="faxcore.calls.app"):
        async with (ari_client(port) as ari, asyncio.TaskGroup() as tg):
            app = StasisApp(ari, calllog, handlers={LineMode.FAX: asterisk_dies_mid_call})
            app.dispatch(start_event(args=["inbound", "+33972100002"], channel={"id": "1.1"}), tg)
            await asyncio.wait_for(cut_off.wait(), 10)
            await asyncio.wait_for(hang_up_failed(), 10)
            await server.start(port)  # Asterisk is back, without the call's channel
            await app.reconcile()
    (entry,) = await calllog.entries(["1.1"])
    assert entry.ended_at is not None
    assert entry.detail == "channel gone (Asterisk restarted)"
    assert ("GET", "/channels") not in [(m, p) for m, p, _ in server.requests]


async def test_stopping_hangs_up_every_call_at_once_even_with_one_channel_stuck(
        database: Database, server: AriServer) -> None:
    """Issue 21: a channel that stops answering mid-call costs the shutdown one
    request timeout, and the other call is hung up and closed all the same."""
    await LineService(database).add("+33972100001", "Stuck-line-1x")
    await LineService(database).add("+33972100002", "Other-line-2x")
    answered: set[str] = set()

    async def call_in_progress(call: Call, line: LineInfo) -> None:
        if call.id == "9.9":
            server.stalled.add("9.9")  # Asterisk stops answering about this channel
        answered.add(call.id)
        await asyncio.Event().wait()

    async def serve(app: StasisApp) -> None:
        async with asyncio.TaskGroup() as tg:
            app.dispatch(start_event(args=["inbound", "+33972100001"], channel={"id": "9.9"}), tg)
            app.dispatch(start_event(args=["inbound", "+33972100002"], channel={"id": "1.1"}), tg)
            await asyncio.Event().wait()

    calllog = CallLog(database)
    async with ari_client(server.port, timeout=0.5) as ari:
        app = StasisApp(ari, calllog, handlers={LineMode.FAX: call_in_progress})
        serving = asyncio.create_task(serve(app))
        while answered != {"9.9", "1.1"}:
            await asyncio.sleep(0.05)
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(serving, 5)  # the stuck channel costs one 0.5 s timeout
    deletes = [p for m, p, _ in server.requests if m == "DELETE"]
    assert sorted(deletes) == ["/channels/1.1", "/channels/9.9"]  # one each, never retried
    # Entries come oldest first, and the two calls open theirs in either order.
    by_channel = {e.channel_id: e for e in await calllog.entries(["9.9", "1.1"])}
    stuck, other = by_channel["9.9"], by_channel["1.1"]
    assert stuck.ended_at is not None and other.ended_at is not None
    assert stuck.detail == "stuck in Asterisk: DELETE /channels/9.9 got no answer"
    assert other.detail == "faxcore stopped"


async def test_a_call_whose_end_cannot_be_recorded_takes_nothing_else_down(
        database: Database, server: AriServer, caplog: pytest.LogCaptureFixture) -> None:
    """A database that refuses the closing write (SQLite's "database is locked" after its
    busy timeout, met once in CI) ends that call's handling only. The fault is injected:
    a real SQLite cannot be made to time out on demand."""
    await LineService(database).add("+33972100001", "Closing-line-1x")

    class LockedOnce(CallLog):
        async def close_call(self, channel_id: str, **kwargs: object) -> None:
            if channel_id == "1.1":
                raise OperationalError("UPDATE call_log", {}, Exception("database is locked"))
            await super().close_call(channel_id, **kwargs)  # type: ignore[arg-type]

    async def answered(call: Call, line: LineInfo) -> None:
        call.mark_gone(16)

    calllog = LockedOnce(database)
    async with (ari_client(server.port) as ari, asyncio.TaskGroup() as tg):
        app = StasisApp(ari, calllog, handlers={LineMode.FAX: answered})
        app.dispatch(start_event(args=["inbound", "+33972100001"], channel={"id": "1.1"}), tg)
        app.dispatch(start_event(args=["inbound", "+33972100001"], channel={"id": "1.2"}), tg)
    assert app.calls == {}
    first, second = await calllog.entries(["1.1", "1.2"])
    by_id = {entry.channel_id: entry for entry in (first, second)}
    assert by_id["1.1"].ended_at is None  # left for the next start's reconcile
    assert by_id["1.2"].ended_at is not None and by_id["1.2"].cause == 16
    assert "call 1.1: its end could not be recorded" in caplog.text
