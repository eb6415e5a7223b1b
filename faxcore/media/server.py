"""Asyncio AudioSocket server: Asterisk connects, faxcore answers frame by frame.

A thin adapter over ``AudioSocketParser``: it moves bytes, nothing else.
Asterisk's own 20 ms pace clocks the exchange: for every audio frame received
the attached ``MediaEndpoint`` returns the audio to send back.

One timer per stream all the same, because of how Asterisk reads. Its
AudioSocket channel reads with the channel locked, and ``ast_read`` calls the
driver's read even when no frame waits on the socket (a queued control frame
already taken, for one); the read then blocks until a whole frame arrives. If
faxcore only ever answered, that read would wait for faxcore while Asterisk
waits for the same channel's lock to send faxcore the next frame: the channel
stays locked for good, and every bridge join, channel lookup and hang-up that
touches it hangs behind it (issue 21). So a stream that has had nothing from
faxcore for ``KEEPALIVE_SECONDS`` gets 20 ms of silence, and a stream whose
call is over is closed by faxcore, never left for Asterisk to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Protocol

from faxcore.media.audiosocket import (
    Audio,
    AudioSocketParser,
    Dtmf,
    ErrorFrame,
    Hangup,
    Identify,
    audio_frame,
)
from faxcore.media.errors import AudioSocketProtocolError, MediaError

log = logging.getLogger(__name__)

# Longest time a stream goes without a frame from faxcore: an Asterisk read
# blocked on it (with its channel locked) waits at most this long.
KEEPALIVE_SECONDS = 0.1
# 20 ms of signed linear silence at 8 kHz, the format faxcore asks for.
SILENCE_FRAME = audio_frame(bytes(320))


class MediaEndpoint(Protocol):
    """What a call's media handler (a fax session, a recorder) implements."""

    def on_audio(self, samples: bytes) -> bytes:
        """Take received samples; return as many samples to send back (or b"")."""
        ...

    def on_dtmf(self, digit: str) -> None: ...

    def on_closed(self, reason: str) -> None:
        """The stream ended: ``hangup``, ``eof`` or an error text."""
        ...


class UnknownCallError(MediaError):
    """Asterisk connected with a UUID no call is waiting for."""


class AudioSocketServer:
    """Listens on loopback; routes each connection to the endpoint of its UUID."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._endpoints: dict[uuid.UUID, MediaEndpoint] = {}
        self._connected: dict[uuid.UUID, asyncio.Event] = {}
        self._done: dict[uuid.UUID, asyncio.Event] = {}
        self._writers: dict[uuid.UUID, asyncio.StreamWriter] = {}

    @property
    def address(self) -> tuple[str, int]:
        """The ``host:port`` Asterisk must connect to (``external_host``)."""
        if self._server is None:
            raise MediaError("AudioSocket server is not started")
        sockname = self._server.sockets[0].getsockname()
        return sockname[0], sockname[1]

    async def __aenter__(self) -> AudioSocketServer:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await asyncio.shield(self._server.wait_closed())

    @contextlib.asynccontextmanager
    async def expect(self, endpoint: MediaEndpoint) -> AsyncIterator[uuid.UUID]:
        """Register ``endpoint`` under a fresh UUID for the duration of a call.

        Leaving the block closes the call's stream if Asterisk has not.
        """
        call_id = uuid.uuid4()
        self._endpoints[call_id] = endpoint
        self._connected[call_id] = asyncio.Event()
        self._done[call_id] = asyncio.Event()
        try:
            yield call_id
        finally:
            self._endpoints.pop(call_id, None)
            self._connected.pop(call_id, None)
            self._done.pop(call_id, None)
            writer = self._writers.pop(call_id, None)
            if writer is not None:
                writer.close()

    async def wait_connected(self, call_id: uuid.UUID) -> None:
        """Until Asterisk connected the call's stream (used by tests)."""
        await self._connected[call_id].wait()

    async def wait_done(self, call_id: uuid.UUID) -> None:
        """Until the call's stream is closed (used by tests)."""
        await self._done[call_id].wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        outbound = _Outbound(writer)
        keepalive = asyncio.create_task(outbound.keep_alive(), name="audiosocket-keepalive")
        try:
            await self._serve(reader, outbound)
        finally:
            keepalive.cancel()

    async def _serve(self, reader: asyncio.StreamReader, outbound: _Outbound) -> None:
        writer = outbound.writer
        parser = AudioSocketParser()
        call_id: uuid.UUID | None = None
        endpoint: MediaEndpoint | None = None
        reason = "eof"
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                out = bytearray()
                for frame in parser.feed(data):
                    if isinstance(frame, Audio):
                        if endpoint is None:
                            raise AudioSocketProtocolError("audio before the UUID frame")
                        reply = endpoint.on_audio(frame.samples)
                        if reply:
                            out += audio_frame(reply)
                    elif isinstance(frame, Identify):
                        call_id = frame.call_id
                        endpoint = self._endpoints.get(call_id)
                        if endpoint is None:
                            raise UnknownCallError(f"no call waits for AudioSocket {call_id}")
                        self._writers[call_id] = writer
                        self._connected[call_id].set()
                    elif isinstance(frame, Dtmf) and endpoint is not None:
                        endpoint.on_dtmf(frame.digit)
                    elif isinstance(frame, Hangup):
                        reason = "hangup"
                        return
                    elif isinstance(frame, ErrorFrame):
                        reason = f"asterisk error code {frame.code}"
                        return
                if out:
                    outbound.send(out)
                    await writer.drain()
        except (MediaError, ConnectionError) as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("AudioSocket %s closed: %s", call_id, reason)
        except Exception as exc:
            # A failing endpoint ends its own stream, never the server.
            reason = f"endpoint error: {exc!r}"
            log.exception("AudioSocket %s: endpoint failed", call_id)
        finally:
            if endpoint is not None:
                endpoint.on_closed(reason)
            if call_id is not None and call_id in self._done:
                self._done[call_id].set()
            if call_id is not None and self._writers.get(call_id) is writer:
                del self._writers[call_id]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await asyncio.shield(writer.wait_closed())


class _Outbound:
    """Faxcore's side of one stream: every write goes here, so idle time is known."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._loop = asyncio.get_running_loop()
        self._last_sent = self._loop.time()

    def send(self, data: bytes | bytearray) -> None:
        self.writer.write(data)
        self._last_sent = self._loop.time()

    async def keep_alive(self) -> None:
        """Send silence whenever nothing went out for ``KEEPALIVE_SECONDS``."""
        while not self.writer.is_closing():
            idle = self._loop.time() - self._last_sent
            if idle >= KEEPALIVE_SECONDS:
                self.send(SILENCE_FRAME)
                idle = 0.0
            await asyncio.sleep(KEEPALIVE_SECONDS - idle)
