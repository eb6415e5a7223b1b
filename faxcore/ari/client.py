"""The asyncio ARI client: typed REST methods and a reconnecting event stream.

``async with AriClient(url, user, password, app) as ari:`` owns one aiohttp
session. REST calls raise ``AriError`` subclasses chosen by the HTTP status;
``events()`` yields typed events forever, reconnecting with backoff when
Asterisk goes away, and calls ``on_connected`` after every (re)connection so
the application can reconcile what it believed with what Asterisk has.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote

import aiohttp

from faxcore.ari.backoff import Backoff
from faxcore.ari.errors import (
    AriApplicationTaken,
    AriBadRequest,
    AriError,
    AriProtocolError,
    AriRequestTimeout,
    AriResourceStuck,
    AriUnavailable,
    error_for_status,
)
from faxcore.ari.events import ApplicationReplaced, Event, parse_message
from faxcore.ari.gate import JoinGate, access_of
from faxcore.ari.models import Bridge, Channel, Playback, Recording

log = logging.getLogger(__name__)

Params = Mapping[str, str | int | float | bool | None]
OnConnected = Callable[[], Awaitable[None]]

STASIS_ENTRY_WAIT = 5.0  # seconds a new channel may take to enter the app
_STASIS_RETRY_SECONDS = 0.05
_NOT_IN_STASIS = "not in stasis"
# The serving process writes a fresh value in the Asterisk global variable
# owner_variable(app) this often; a newcomer that sees it change is refused.
OWNER_HEARTBEAT = 1.0
OWNER_STALE = 3.5  # seconds without a change after which an owner is presumed dead
_CLOSED = (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
           aiohttp.WSMsgType.CLOSED)


def owner_variable(app: str) -> str:
    """The Asterisk global variable naming the process that serves ``app``."""
    return "FAXCORE_OWNER_" + re.sub(r"[^A-Za-z0-9_]", "_", app)


# Path segments after /channels/ or /bridges/ that are not ids.
_NOT_IDS = frozenset({"create", "externalMedia"})


@dataclass(frozen=True)
class StuckRequest:
    """A request that got no answer: its channel or bridge is quarantined."""

    method: str
    path: str
    since: float

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def named_resources(path: str, params: Params | None = None) -> tuple[str, ...]:
    """The channel and bridge ids a REST request is about (its path and ``channel`` param)."""
    parts = path.strip("/").split("/")
    ids: list[str] = []
    if len(parts) >= 2 and parts[0] in ("channels", "bridges") and parts[1] not in _NOT_IDS:
        ids.append(unquote(parts[1]))
    channel = (params or {}).get("channel")
    if parts[0] == "bridges" and isinstance(channel, str):
        ids.extend(c for c in channel.split(",") if c)
    return tuple(ids)


def _q(value: str) -> str:
    """One URL path segment (channel ids contain dots, names may hold '/')."""
    return quote(value, safe="")


def _clean(params: Params) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class AriClient:
    """One Asterisk REST Interface connection for the Stasis application ``app``."""

    def __init__(self, url: str, user: str, password: str, app: str, *,
                 timeout: float = 10.0, backoff: Backoff | None = None) -> None:
        base = url.rstrip("/")
        self.base = base if base.endswith("/ari") else base + "/ari"
        self.app = app
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}"}
        self._session: aiohttp.ClientSession | None = None
        self.connections = 0  # WebSocket connections made, for logs and tests
        # Channels and bridges whose request timed out: no more requests on them.
        self.stuck: dict[str, StuckRequest] = {}
        self.timeouts = 0  # requests that got no answer in time, for metrics and tests
        self._owner_token = uuid.uuid4().hex
        self._beats = 0
        self._gate = JoinGate()  # no lookup meets a bridge join inside Asterisk

    async def __aenter__(self) -> AriClient:
        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        session = self._session
        if session is not None:
            await asyncio.shield(self._release_application())
        self._session = None
        if session is not None:
            await asyncio.shield(session.close())

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise AriError("AriClient used outside 'async with'")
        return self._session

    # -- REST ---------------------------------------------------------------

    async def request(self, method: str, path: str, params: Params | None = None,
                      body: Any = None) -> Any:
        """One REST call; the decoded JSON answer, or None for 204.

        A request that names a quarantined channel or bridge is not sent
        (``AriResourceStuck``); one that times out quarantines what it names
        (``AriRequestTimeout``).
        """
        url = self.base + path
        resources = named_resources(path, params)
        for resource in resources:
            if resource in self.stuck:
                raise AriResourceStuck(
                    f"not sent: {resource} is stuck in Asterisk since "
                    f"{self.stuck[resource]} got no answer", 0, method, path)
        try:
            async with self._gate.enter(access_of(method, path)), self.session.request(
                method, url, params=_clean(params or {}),
                json=body if body is not None else None,
            ) as resp:
                text = await resp.text()
                status = resp.status
                from_ari = resp.content_type == "application/json"
        except TimeoutError as exc:
            self._quarantine(resources, method, path)
            raise AriRequestTimeout(f"no answer in {self.timeout:g} s", 0, method,
                                    path) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise AriUnavailable(f"Asterisk unreachable: {exc or type(exc).__name__}",
                                 0, method, path) from exc
        if status == 404 and not from_ari:
            # Asterisk's HTTP server is up but res_ari is not loaded yet (a
            # restart under way): its own HTML 404 page, not ARI's JSON answer.
            raise AriUnavailable("Asterisk's ARI is not loaded yet (HTTP 404 from its web "
                                 "server)", status, method, path)
        if status >= 400:
            raise error_for_status(status, _message(text), method, path)
        if status == 204 or not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise AriProtocolError(f"answer is not JSON: {text[:200]!r}", status,
                                   method, path) from exc

    def _quarantine(self, resources: tuple[str, ...], method: str, path: str) -> None:
        self.timeouts += 1
        stuck = StuckRequest(method, path, asyncio.get_running_loop().time())
        for resource in resources:
            self.stuck.setdefault(resource, stuck)
        log.error("ARI %s %s got no answer in %g s: %s quarantined (no further requests "
                  "on it)", method, path, self.timeout, ", ".join(resources) or "nothing")

    def forget(self, resource: str) -> None:
        """``resource`` no longer exists in Asterisk: drop its quarantine."""
        self.stuck.pop(resource, None)

    async def _object(self, method: str, path: str, params: Params | None = None,
                      body: Any = None) -> Mapping[str, Any]:
        data = await self.request(method, path, params, body)
        if not isinstance(data, Mapping):
            raise AriProtocolError(f"expected a JSON object, got {data!r:.200}", 0, method, path)
        return data

    # channels
    async def application_channel_ids(self) -> set[str]:
        """Ids of the channels subscribed to this application (in its Stasis or created
        by it), from ``GET /applications/{app}``.

        Asterisk answers from the application's own subscription list: unlike
        ``GET /channels`` it walks no channel container, so it cannot meet a
        bridge join in the deadlock of issue 21.
        """
        data = await self._object("GET", f"/applications/{_q(self.app)}")
        ids = data.get("channel_ids", [])
        return {str(i) for i in ids} if isinstance(ids, list) else set()

    async def list_channels(self) -> list[Channel]:
        """Every channel Asterisk has now (used by tests; faxcore itself never walks them)."""
        data = await self.request("GET", "/channels")
        return [Channel.parse(c) for c in data or []]

    async def get_channel(self, channel_id: str) -> Channel:
        """One channel; ``AriNotFound`` when it is gone (used by tests)."""
        return Channel.parse(await self._object("GET", f"/channels/{_q(channel_id)}"))

    async def answer(self, channel_id: str) -> None:
        """Answer a ringing channel."""
        await self.request("POST", f"/channels/{_q(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        """Send ringing to the caller before answering."""
        await self.request("POST", f"/channels/{_q(channel_id)}/ring")

    async def hangup(self, channel_id: str, reason: str | None = None,
                     reason_code: int | None = None) -> None:
        """Hang up; ``reason`` (normal, busy, unallocated, ...) or a Q.850 ``reason_code``."""
        if reason is not None and reason_code is not None:
            raise ValueError("give reason or reason_code, not both")
        await self.request("DELETE", f"/channels/{_q(channel_id)}",
                           {"reason": reason, "reason_code": reason_code})

    async def originate(self, endpoint: str, *, app: str | None = None,
                        app_args: str | None = None, caller_id: str | None = None,
                        timeout: int | None = None, channel_id: str | None = None,
                        variables: Mapping[str, str] | None = None,
                        extension: str | None = None, context: str | None = None,
                        priority: int | None = None) -> Channel:
        """``POST /channels``: call ``endpoint`` into an application or dialplan."""
        params: dict[str, Any] = {
            "endpoint": endpoint, "extension": extension, "context": context,
            "priority": priority, "callerId": caller_id, "timeout": timeout,
            "channelId": channel_id,
        }
        if extension is None:
            params["app"] = app or self.app
            params["appArgs"] = app_args
        body = {"variables": dict(variables)} if variables else None
        return Channel.parse(await self._object("POST", "/channels", params, body))

    async def get_variable(self, channel_id: str, variable: str) -> str:
        """A channel variable or function (``CALLERID(num)``)."""
        data = await self._object("GET", f"/channels/{_q(channel_id)}/variable",
                                  {"variable": variable})
        return str(data.get("value", ""))

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        """Set a channel variable or function (``FAXOPT(gateway)``)."""
        await self.request("POST", f"/channels/{_q(channel_id)}/variable",
                           {"variable": variable, "value": value})

    async def play(self, channel_id: str, media: str, *, playback_id: str | None = None,
                   lang: str | None = None) -> Playback:
        """Start playing ``media`` (``sound:beep``) on a channel."""
        return Playback.parse(await self._object(
            "POST", f"/channels/{_q(channel_id)}/play",
            {"media": media, "playbackId": playback_id, "lang": lang}))

    async def record(self, channel_id: str, name: str, *, format: str = "wav",
                     max_duration: int | None = None, max_silence: int | None = None,
                     if_exists: str = "fail", beep: bool = False,
                     terminate_on: str = "none") -> Recording:
        """Start recording a channel into the stored recording ``name``."""
        return Recording.parse(await self._object(
            "POST", f"/channels/{_q(channel_id)}/record", {
                "name": name, "format": format, "maxDurationSeconds": max_duration,
                "maxSilenceSeconds": max_silence, "ifExists": if_exists, "beep": beep,
                "terminateOn": terminate_on,
            }))

    async def send_dtmf(self, channel_id: str, dtmf: str, *, between_ms: int | None = None,
                        duration_ms: int | None = None) -> None:
        """Send DTMF digits to a channel (used by tests)."""
        await self.request("POST", f"/channels/{_q(channel_id)}/dtmf", {
            "dtmf": dtmf, "between": between_ms, "duration": duration_ms})

    async def snoop(self, channel_id: str, *, spy: str = "in", whisper: str = "none",
                    app_args: str | None = None, snoop_id: str | None = None) -> Channel:
        """A snoop channel hearing (``spy``) or talking to (``whisper``) a channel."""
        return Channel.parse(await self._object(
            "POST", f"/channels/{_q(channel_id)}/snoop", {
                "app": self.app, "spy": spy, "whisper": whisper, "appArgs": app_args,
                "snoopId": snoop_id}))

    async def external_media(self, external_host: str, *, data: str,
                             format: str = "slin", encapsulation: str = "audiosocket",
                             transport: str = "tcp", channel_id: str | None = None) -> Channel:
        """An externalMedia channel sending the call's audio to ``external_host``."""
        return Channel.parse(await self._object("POST", "/channels/externalMedia", {
            "app": self.app, "external_host": external_host, "encapsulation": encapsulation,
            "transport": transport, "format": format, "data": data, "channelId": channel_id,
        }))

    # bridges
    async def create_bridge(self, bridge_type: str = "mixing", *, bridge_id: str | None = None,
                            name: str | None = None) -> Bridge:
        """A new bridge (``mixing``, ``holding``, ...)."""
        return Bridge.parse(await self._object("POST", "/bridges", {
            "type": bridge_type, "bridgeId": bridge_id, "name": name}))

    async def add_channel(self, bridge_id: str, channel_id: str, *,
                          stasis_wait: float = STASIS_ENTRY_WAIT) -> None:
        """Put a channel in a bridge, waiting up to ``stasis_wait`` s for it to enter the app.

        Asterisk answers ``externalMedia`` (and ``originate``) once the channel
        exists, but the channel enters Stasis only when its dial completes
        (AudioSocket: after the TCP connection). Under load that comes after
        the reply, and ``addChannel`` is refused with 422 "not in Stasis".
        """
        path = f"/bridges/{_q(bridge_id)}/addChannel"
        deadline = asyncio.get_running_loop().time() + stasis_wait
        while True:
            try:
                await self.request("POST", path, {"channel": channel_id})
                return
            except AriBadRequest as exc:
                if (_NOT_IN_STASIS not in exc.message.lower()
                        or asyncio.get_running_loop().time() >= deadline):
                    raise
                log.debug("channel %s not yet in Stasis: retrying addChannel", channel_id)
            await asyncio.sleep(_STASIS_RETRY_SECONDS)

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        """Take a channel out of a bridge (used by tests)."""
        await self.request("POST", f"/bridges/{_q(bridge_id)}/removeChannel",
                           {"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Destroy a bridge (its channels stay up)."""
        await self.request("DELETE", f"/bridges/{_q(bridge_id)}")

    # playbacks and recordings
    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback."""
        await self.request("DELETE", f"/playbacks/{_q(playback_id)}")

    async def stop_recording(self, name: str) -> None:
        """Stop a live recording and store it."""
        await self.request("POST", f"/recordings/live/{_q(name)}/stop")

    async def stored_recordings(self) -> list[str]:
        """Names of the recordings Asterisk has stored."""
        listed = await self.request("GET", "/recordings/stored")
        return [str(item["name"]) for item in listed or [] if isinstance(item, dict)
                and "name" in item]

    async def delete_stored_recording(self, name: str) -> None:
        """Delete a stored recording."""
        await self.request("DELETE", f"/recordings/stored/{_q(name)}")

    async def stored_recording_file(self, name: str) -> bytes:
        """The bytes of a stored recording."""
        path = f"/recordings/stored/{_q(name)}/file"
        try:
            async with self.session.get(self.base + path) as resp:
                payload = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise AriUnavailable(f"Asterisk unreachable: {exc}", 0, "GET", path) from exc
        if status >= 400:
            raise error_for_status(status, _message(payload.decode(errors="replace")),
                                   "GET", path)
        return payload

    # asterisk, user events, globals
    async def asterisk_info(self) -> Mapping[str, Any]:
        """``GET /asterisk/info`` (build, system, config, status); used by the lab tests."""
        return await self._object("GET", "/asterisk/info")

    async def user_event(self, name: str, variables: Mapping[str, str]) -> None:
        """``POST /events/user/{name}`` to this application: it comes back as an event."""
        await self.request("POST", f"/events/user/{_q(name)}", {"application": self.app},
                           {"variables": dict(variables)})

    async def get_global(self, variable: str) -> str:
        """An Asterisk global variable ("" when unset)."""
        data = await self._object("GET", "/asterisk/variable", {"variable": variable})
        return str(data.get("value", ""))

    async def set_global(self, variable: str, value: str) -> None:
        """Set an Asterisk global variable."""
        await self.request("POST", "/asterisk/variable", {"variable": variable, "value": value})

    # -- one process per application -----------------------------------------

    async def claim_application(self) -> None:
        """Refuse to take ``app`` over from another live process on this Asterisk.

        Asterisk lets any WebSocket take an application name from another
        (ApplicationReplaced): two faxcore processes would silently steal
        calls from each other. The owner's heartbeat in a global variable
        tells a newcomer that someone still serves it.
        """
        name = owner_variable(self.app)
        seen = await self.get_global(name)
        if seen and not seen.startswith(self._owner_token + " "):
            await asyncio.sleep(OWNER_STALE)
            if await self.get_global(name) != seen:
                raise AriApplicationTaken(
                    f"application {self.app!r} is already served by another process on "
                    f"{self.base} (its heartbeat {name} is live): run one faxcore per "
                    f"application name, or give each its own asterisk.app")
            log.info("ARI application %r: previous owner's heartbeat is stale, taking it",
                     self.app)
        await self._beat()

    async def _beat(self) -> None:
        self._beats += 1
        await self.set_global(owner_variable(self.app), f"{self._owner_token} {self._beats}")

    async def _release_application(self) -> None:
        """Clear the heartbeat on the way out, so a successor starts without waiting."""
        if not self._beats:
            return
        name = owner_variable(self.app)
        try:
            async with asyncio.timeout(2.0):
                if (await self.get_global(name)).startswith(self._owner_token + " "):
                    await self.set_global(name, "")
        except (AriError, TimeoutError) as exc:
            log.info("ARI application %r: heartbeat not cleared: %s", self.app, exc)

    # -- events -------------------------------------------------------------

    async def events(self, on_connected: OnConnected | None = None) -> AsyncGenerator[Event, None]:
        """Typed events of the application, forever, reconnecting with backoff.

        ``on_connected`` runs after each connection, before its first event is
        yielded; if it fails with ``AriUnavailable`` the connection is retried.
        """
        loop = asyncio.get_running_loop()
        url = f"{self.base}/events"
        params = {"app": self.app, "subscribeAll": "false"}
        while True:
            try:
                await self.claim_application()
                ws = await self.session.ws_connect(
                    url, params=params, heartbeat=5.0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                )
            except (AriUnavailable, TimeoutError, aiohttp.ClientError, OSError) as exc:
                delay = self.backoff.failed(loop.time())
                log.warning("ARI WebSocket %s: %s; retrying in %.2f s", url,
                            exc or type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            try:
                self.connections += 1
                self.backoff.connected(loop.time())
                log.info("ARI connected to %s as application %r", self.base, self.app)
                if on_connected is not None:
                    await on_connected()
                async for event in self._receive(ws):
                    yield event
            except AriUnavailable as exc:
                log.warning("Asterisk went away: %s", exc)
            finally:
                await asyncio.shield(ws.close())
            delay = self.backoff.failed(loop.time())
            log.warning("ARI WebSocket closed; reconnecting in %.2f s", delay)
            await asyncio.sleep(delay)

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> AsyncGenerator[Event, None]:
        """One connection's events until it closes, beating the owner heartbeat meanwhile."""
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + OWNER_HEARTBEAT
        while True:
            message: aiohttp.WSMessage | None
            try:
                message = await ws.receive(timeout=max(0.01, next_beat - loop.time()))
            except TimeoutError:
                message = None
            if loop.time() >= next_beat:
                await self._beat()
                next_beat = loop.time() + OWNER_HEARTBEAT
            if message is None:
                continue
            if message.type in _CLOSED:
                return
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                event = parse_message(message.data)
            except AriProtocolError as exc:
                log.error("ignored ARI event: %s", exc)
                continue
            if isinstance(event, ApplicationReplaced):
                raise AriApplicationTaken(
                    f"application {self.app!r} was taken over by another ARI client on "
                    f"{self.base}: stopping (run one faxcore per application name, or give "
                    f"each its own asterisk.app)")
            yield event


def _message(text: str) -> str:
    """Asterisk's ``{"message": ...}`` (or ``{"error": ...}``) text."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:200] or "no message"
    if isinstance(data, Mapping):
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return text.strip()[:200]
