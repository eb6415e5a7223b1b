"""AriClient against an ARI server on loopback replaying real Asterisk 22 answers.

The server speaks the same HTTP and WebSocket as Asterisk (bodies and events
copied from the captures); it lets the tests drop the WebSocket, refuse
connections and come back, which is what an Asterisk restart looks like to
the client. The same behaviours against the real Asterisk are in
tests/calls (lab tests).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from faxcore.ari.backoff import Backoff
from faxcore.ari.client import OWNER_STALE, AriClient, owner_variable
from faxcore.ari.errors import (
    AriApplicationTaken,
    AriBadRequest,
    AriConflict,
    AriError,
    AriNotFound,
    AriRequestTimeout,
    AriResourceStuck,
    AriUnavailable,
)
from faxcore.ari.events import Event, StasisStart

CAPTURE = Path(__file__).parent / "captures" / "asterisk-22.10-events.jsonl"
EVENTS = CAPTURE.read_text().splitlines()
AUTH = "Basic ZmF4Y29yZTpzZWNyZXQ="  # faxcore:secret


class AriServer:
    """A loopback ARI: REST answers as Asterisk gives them, events from captures."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/ari/{tail:.*}", self.handle)
        self.runner = web.AppRunner(self.app)
        self.port = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.events_to_send: list[str] = []
        self.site: web.TCPSite | None = None
        # Channels that enter Stasis only after this many addChannel refusals.
        self.late_channels: dict[str, int] = {}
        # Global variables: unset ones read as "", as Asterisk 22 answers.
        self.globals: dict[str, str] = {}
        # Ids whose requests never get an answer (a channel deadlocked in Asterisk).
        self.stalled: set[str] = set()
        # Asterisk restarting: its web server answers before res_ari is loaded.
        self.booting = False
        # Channels subscribed to the application (``GET /applications/{app}``).
        self.app_channels: set[str] = set()
        self.unstall = asyncio.Event()
        # Seconds each path takes to answer, and the requests seen in flight together.
        self.delays: dict[str, float] = {}
        self.in_flight: set[str] = set()
        self.together: list[frozenset[str]] = []

    async def start(self, port: int = 0) -> None:
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, "127.0.0.1", port)
        await self.site.start()
        server = self.site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        self.unstall.set()
        for ws in self.sockets:
            await ws.close()
        await self.runner.cleanup()
        self.runner = web.AppRunner(self.app)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != AUTH:
            return web.json_response({"message": "Authentication required"}, status=401)
        path = "/" + request.match_info["tail"]
        self.requests.append((request.method, path, dict(request.query)))
        if path == "/events":
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            self.sockets.append(ws)
            for text in self.events_to_send:
                await ws.send_str(text)
            async for _ in ws:
                pass
            return ws
        if self.booting:
            return web.Response(status=404, content_type="text/html",
                                text="<html><title>404 Not Found</title></html>")
        if any(f"/{stuck}" in path for stuck in self.stalled):
            await self.unstall.wait()  # the request thread is blocked until the server stops
        if path in self.delays:
            self.in_flight.add(path)
            self.together.append(frozenset(self.in_flight))
            await asyncio.sleep(self.delays[path])
            self.in_flight.discard(path)
        if path == "/asterisk/variable":
            name = request.query["variable"]
            if request.method == "POST":
                self.globals[name] = request.query.get("value", "")
                return web.Response(status=204)
            return web.json_response({"value": self.globals.get(name, "")})
        if request.method == "GET" and path.startswith("/applications/"):
            return web.json_response({"name": path.rsplit("/", 1)[1],
                                      "channel_ids": sorted(self.app_channels),
                                      "bridge_ids": [], "endpoint_ids": [],
                                      "device_names": [], "events_allowed": [],
                                      "events_disallowed": []})
        if request.method == "POST" and path.startswith("/channels/") and path.endswith(
                "/answer"):
            return web.Response(status=204)
        late = self.late_channels.get(request.query.get("channel", ""))
        if path == "/bridges/br2/addChannel" and late is not None:
            if late == 0:
                return web.Response(status=204)
            self.late_channels[request.query["channel"]] = late - 1
            return web.json_response({"message": "Channel not in Stasis application"},
                                     status=422)
        answers: dict[tuple[str, str], tuple[int, str]] = {
            ("GET", "/channels/nope"): (404, '{"message":"Channel not found"}'),
            ("POST", "/channels"): (500, '{"error":"Allocation failed"}'),
            ("POST", "/channels/1.1/record"): (
                422, '{"message":"specified format is unknown on this system"}'),
            ("POST", "/bridges/br1/addChannel"): (
                409, '{"message":"Bridge not in Stasis application"}'),
            ("POST", "/channels/1.1/answer"): (204, ""),
            ("GET", "/channels/1.1/variable"): (200, '{"value":"bar"}'),
            ("GET", "/channels"): (200, "[]"),
            ("POST", "/channels/1.1/play"): (201, '{"id":"pb1","media_uri":"sound:beep",'
                                             '"target_uri":"channel:1.1","language":"en",'
                                             '"state":"queued"}'),
            ("GET", "/asterisk/info"): (200, "not json"),
        }
        missing = (404, '{"message":"Resource not found"}')
        status, body = answers.get((request.method, path), missing)
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, text=body, content_type="application/json")


@pytest.fixture
async def server() -> AsyncIterator[AriServer]:
    srv = AriServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def client(port: int, password: str = "secret", timeout: float = 2.0) -> AriClient:
    return AriClient(f"http://127.0.0.1:{port}", "faxcore", password, "faxcore",
                     timeout=timeout, backoff=Backoff(initial=0.05, maximum=0.2,
                                                  rng=random.Random(3)))


async def test_rest_errors_become_typed_errors_with_asterisks_message(server: AriServer) -> None:
    async with client(server.port) as ari:
        with pytest.raises(AriNotFound,
                           match=r"ARI GET /channels/nope: Channel not found \(HTTP 404\)"):
            await ari.get_channel("nope")
        with pytest.raises(AriUnavailable, match="Allocation failed"):
            await ari.originate("Bogus/1")
        with pytest.raises(AriBadRequest, match="specified format is unknown"):
            await ari.record("1.1", "x", format="nosuchfmt")
        with pytest.raises(AriConflict, match="Bridge not in Stasis application"):
            await ari.add_channel("br1", "1.1")
        with pytest.raises(AriError, match="answer is not JSON"):
            await ari.asterisk_info()
    async with client(server.port, password="wrong") as ari:
        with pytest.raises(AriError, match=r"Authentication required \(HTTP 401\)"):
            await ari.list_channels()


async def test_add_channel_waits_for_a_new_channel_to_enter_stasis(server: AriServer) -> None:
    server.late_channels["media-1"] = 3  # externalMedia answered before its StasisStart
    async with client(server.port) as ari:
        await ari.add_channel("br2", "media-1")
    tries = [r for r in server.requests if r[1] == "/bridges/br2/addChannel"]
    assert len(tries) == 4


async def test_add_channel_gives_up_on_a_channel_that_never_enters_stasis(
        server: AriServer) -> None:
    server.late_channels["gone-1"] = 1_000
    async with client(server.port) as ari:
        with pytest.raises(AriBadRequest, match="Channel not in Stasis application"):
            await ari.add_channel("br2", "gone-1", stasis_wait=0.3)
    tries = [r for r in server.requests if r[1] == "/bridges/br2/addChannel"]
    assert 2 <= len(tries) < 100


async def test_no_channel_request_is_sent_while_a_bridge_join_is_in_flight(
        server: AriServer) -> None:
    """Asterisk's legacy channel storage deadlocks a lookup against a join (issue 21)."""
    join, hangup = "/bridges/br2/addChannel", "/channels/1.1/answer"
    server.late_channels["1.1"] = 0
    server.delays = {join: 0.2, hangup: 0.05, "/asterisk/variable": 0.05}
    async with client(server.port) as ari:
        joining = asyncio.create_task(ari.add_channel("br2", "1.1"))
        await asyncio.sleep(0.05)
        await asyncio.gather(ari.answer("1.1"), ari.answer("1.1"),
                             ari.set_global("FAXCORE_TEST", "1"))
        await joining
    assert any(join in seen and "/asterisk/variable" in seen for seen in server.together)
    assert not any(join in seen and hangup in seen for seen in server.together)


async def test_rest_calls_send_aris_parameters(server: AriServer) -> None:
    async with client(server.port) as ari:
        await ari.answer("1.1")
        assert await ari.get_variable("1.1", "FOO") == "bar"
        playback = await ari.play("1.1", "sound:beep", playback_id="pb1")
        assert (playback.id, playback.state) == ("pb1", "queued")
        with pytest.raises(AriNotFound):
            await ari.hangup("1.1", reason="unallocated")
    assert ("POST", "/channels/1.1/answer", {}) in server.requests
    assert ("GET", "/channels/1.1/variable", {"variable": "FOO"}) in server.requests
    assert ("DELETE", "/channels/1.1", {"reason": "unallocated"}) in server.requests


async def test_the_application_s_channels_are_read_from_the_application_not_the_channels(
        server: AriServer) -> None:
    """Reconcile's source: the app's subscription list, no walk of Asterisk's channels."""
    server.app_channels = {"1.1", "faxcore-media-7"}
    async with client(server.port) as ari:
        assert await ari.application_channel_ids() == {"1.1", "faxcore-media-7"}
    assert [(m, p) for m, p, _ in server.requests] == [("GET", "/applications/faxcore")]


async def test_unreachable_asterisk_is_ari_unavailable() -> None:
    srv = AriServer()
    await srv.start()
    port = srv.port
    await srv.stop()
    async with client(port) as ari:
        with pytest.raises(AriUnavailable, match="Asterisk unreachable"):
            await ari.list_channels()


async def test_events_reconnect_after_drop_and_outage_calling_on_connected(
        server: AriServer) -> None:
    server.events_to_send = EVENTS[:8]
    connected: list[int] = []
    received: list[Event] = []

    async with client(server.port) as ari:
        async def on_connected() -> None:
            connected.append(ari.connections)

        async def consume() -> None:
            async for event in ari.events(on_connected):
                received.append(event)
                if len(received) == 8:
                    # Asterisk dies: WebSocket closed and the port refuses for a while.
                    await server.stop()
                    await asyncio.sleep(0.5)
                    await server.start(server.port)
                if len(received) == 16:
                    return

        await asyncio.wait_for(consume(), 10)
    assert connected == [1, 2]
    assert [e.type for e in received[:8]] == [e.type for e in received[8:]]
    assert any(isinstance(e, StasisStart) for e in received)
    ws_requests = [r for r in server.requests if r[1] == "/events"]
    assert ws_requests[-1][2] == {"app": "faxcore", "subscribeAll": "false"}


async def test_an_asterisk_whose_ari_is_not_loaded_yet_is_unavailable_not_a_missing_resource(
        server: AriServer) -> None:
    server.booting = True
    async with client(server.port) as ari:
        with pytest.raises(AriUnavailable, match="ARI is not loaded yet"):
            await ari.get_global("FAXCORE_OWNER_faxcore")
        server.booting = False
        with pytest.raises(AriNotFound, match="Channel not found"):
            await ari.get_channel("nope")  # ARI's own 404 stays a missing resource


async def test_a_request_that_times_out_quarantines_its_channel_and_spares_the_others(
        server: AriServer) -> None:
    server.stalled.add("9.9")
    async with client(server.port, timeout=0.5) as ari:
        with pytest.raises(AriRequestTimeout, match=r"DELETE /channels/9\.9: no answer in 0\.5 s"):
            await ari.hangup("9.9")
        sent = len(server.requests)
        with pytest.raises(AriResourceStuck, match=r"9\.9 is stuck in Asterisk"):
            await ari.answer("9.9")
        with pytest.raises(AriResourceStuck):
            await ari.add_channel("br2", "9.9")
        assert len(server.requests) == sent  # nothing more reached the stuck channel
        await ari.answer("1.1")  # other calls go on
        assert (ari.timeouts, list(ari.stuck)) == (1, ["9.9"])
        ari.forget("9.9")
        assert not ari.stuck


async def _first_events(ari: AriClient, count: int) -> list[Event]:
    received: list[Event] = []
    async for event in ari.events():
        received.append(event)
        if len(received) == count:
            break
    return received


async def test_a_second_process_is_refused_while_the_first_serves_the_application(
        server: AriServer) -> None:
    server.events_to_send = EVENTS[:1]
    async with client(server.port) as first:
        serving = asyncio.create_task(_first_events(first, 2))  # serves, beating its heartbeat
        await asyncio.sleep(0.2)
        async with client(server.port) as second:
            with pytest.raises(AriApplicationTaken, match="already served by another process"):
                await asyncio.wait_for(_first_events(second, 1), OWNER_STALE + 5)
        serving.cancel()
    # A clean stop clears the heartbeat: the next process starts without waiting.
    assert server.globals[owner_variable("faxcore")] == ""
    async with client(server.port) as successor:
        assert len(await asyncio.wait_for(_first_events(successor, 1), 1.0)) == 1


async def test_a_stale_heartbeat_from_a_killed_process_is_taken_over(server: AriServer) -> None:
    server.events_to_send = EVENTS[:1]
    server.globals[owner_variable("faxcore")] = "deadbeef 41"  # a SIGKILLed owner's last beat
    async with client(server.port) as ari:
        events = await asyncio.wait_for(_first_events(ari, 1), OWNER_STALE + 5)
    assert len(events) == 1


async def test_an_application_taken_over_stops_the_event_stream_with_a_clear_error(
        server: AriServer) -> None:
    replaced = ('{"type":"ApplicationReplaced","timestamp":"2026-12-01T09:33:25.421+0000",'
                '"application":"faxcore","asterisk_id":"02:fc:00:00:00:01"}')
    server.events_to_send = [EVENTS[0], replaced, EVENTS[1]]
    async with client(server.port) as ari:
        with pytest.raises(AriApplicationTaken, match="taken over by another ARI client"):
            await asyncio.wait_for(_first_events(ari, 3), 5)
