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
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from faxcore.ari.backoff import Backoff
from faxcore.ari.errors import (
    AriBadRequest,
    AriError,
    AriProtocolError,
    AriUnavailable,
    error_for_status,
)
from faxcore.ari.events import Event, parse_message
from faxcore.ari.models import Bridge, Channel, Playback, Recording

log = logging.getLogger(__name__)

Params = Mapping[str, str | int | float | bool | None]
OnConnected = Callable[[], Awaitable[None]]

STASIS_ENTRY_WAIT = 5.0  # seconds a new channel may take to enter the app
_STASIS_RETRY_SECONDS = 0.05
_NOT_IN_STASIS = "not in stasis"


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

    async def __aenter__(self) -> AriClient:
        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        session, self._session = self._session, None
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
        """One REST call; the decoded JSON answer, or None for 204."""
        url = self.base + path
        try:
            async with self.session.request(
                method, url, params=_clean(params or {}),
                json=body if body is not None else None,
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise AriUnavailable(f"Asterisk unreachable: {exc or type(exc).__name__}",
                                 0, method, path) from exc
        if status >= 400:
            raise error_for_status(status, _message(text), method, path)
        if status == 204 or not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise AriProtocolError(f"answer is not JSON: {text[:200]!r}", status,
                                   method, path) from exc

    async def _object(self, method: str, path: str, params: Params | None = None,
                      body: Any = None) -> Mapping[str, Any]:
        data = await self.request(method, path, params, body)
        if not isinstance(data, Mapping):
            raise AriProtocolError(f"expected a JSON object, got {data!r:.200}", 0, method, path)
        return data

    # channels
    async def list_channels(self) -> list[Channel]:
        """Every channel Asterisk has now."""
        data = await self.request("GET", "/channels")
        return [Channel.parse(c) for c in data or []]

    async def get_channel(self, channel_id: str) -> Channel:
        """One channel; ``AriNotFound`` when it is gone."""
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

    async def create_channel(self, endpoint: str, *, app: str | None = None,
                             app_args: str | None = None,
                             channel_id: str | None = None) -> Channel:
        """``POST /channels/create``: a channel not yet dialed (dial it later)."""
        return Channel.parse(await self._object("POST", "/channels/create", {
            "endpoint": endpoint, "app": app or self.app, "appArgs": app_args,
            "channelId": channel_id,
        }))

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
        """Send DTMF digits to a channel."""
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
        """Take a channel out of a bridge."""
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

    # asterisk, device states, mailboxes
    async def asterisk_info(self) -> Mapping[str, Any]:
        """``GET /asterisk/info`` (build, system, config, status)."""
        return await self._object("GET", "/asterisk/info")

    async def reload_module(self, name: str) -> None:
        """``PUT /asterisk/modules/{name}``: reload one module (``res_pjsip.so``)."""
        await self.request("PUT", f"/asterisk/modules/{_q(name)}")

    async def set_device_state(self, device: str, state: str) -> None:
        """Set a ``Stasis:`` device state (BUSY, NOT_INUSE, ...)."""
        await self.request("PUT", f"/deviceStates/{_q(device)}", {"deviceState": state})

    async def update_mailbox(self, name: str, old_messages: int, new_messages: int) -> None:
        """``PUT /mailboxes/{name}``: message counts for MWI (needs res_mwi_external)."""
        await self.request("PUT", f"/mailboxes/{_q(name)}",
                           {"oldMessages": old_messages, "newMessages": new_messages})

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
                ws = await self.session.ws_connect(
                    url, params=params, heartbeat=5.0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                )
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
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
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        try:
                            yield parse_message(message.data)
                        except AriProtocolError as exc:
                            log.error("ignored ARI event: %s", exc)
                    elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                        break
            except AriUnavailable as exc:
                log.warning("Asterisk went away while reconciling: %s", exc)
            finally:
                await asyncio.shield(ws.close())
            delay = self.backoff.failed(loop.time())
            log.warning("ARI WebSocket closed; reconnecting in %.2f s", delay)
            await asyncio.sleep(delay)


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
