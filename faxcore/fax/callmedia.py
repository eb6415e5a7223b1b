"""Run a FaxSession over a call's audio: ARI externalMedia (AudioSocket) bridged to the call.

The media path every fax call uses, received or sent: faxcore puts the call's
channel and an externalMedia channel (``encapsulation=audiosocket``,
``format=slin``) in a mixing bridge; Asterisk connects to faxcore's
``AudioSocketServer`` and streams 20 ms frames. Each frame is fed to the
session and answered at once with the session's audio, so Asterisk's clock
paces the modems. T.38 callers reach the same audio path through Asterisk's
T.38 gateway (``FAXOPT(gateway)=yes`` set on the channel before answering,
see ``enable_t38_gateway``).

``run_fax_over_call`` works for both directions: the session's options say
whether it sends or receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError
from faxcore.fax.events import FaxCompleted, FaxEvent
from faxcore.fax.session import FaxSession
from faxcore.media.server import AudioSocketServer

log = logging.getLogger(__name__)

# Channels faxcore creates itself (media, snoop, detection, outbound fax calls)
# have ids with this prefix: call routing knows them from callers' channels.
OWN_CHANNEL_PREFIX = "faxcore-"
# Set to "yes" on a channel before it is answered or dialled: Asterisk's T.38
# gateway then meets a T.38 peer in T.38 and gives faxcore audio.
T38_GATEWAY_VARIABLE = "FAXOPT(gateway)"

Clock = Callable[[], float]
EventSink = Callable[[FaxEvent], Awaitable[None]]
# Extra time past the session's own limit before the call is cut regardless.
_GRACE = 5.0
# No audio from Asterisk for this long ends the fax as a dropped call. spandsp's
# T.30 timers run on received samples, so without this a call whose media
# stopped (a broken bridge, a vanished stream) would wait forever.
MEDIA_SILENCE_SECONDS = 20.0


class FaxMediaEndpoint:
    """The AudioSocket side of one fax call: frames in, frames out, events queued."""

    def __init__(self, session: FaxSession, clock: Clock = time.monotonic) -> None:
        self.session = session
        self._clock = clock
        self.events: asyncio.Queue[FaxEvent] = asyncio.Queue()
        self.close_reason = ""
        self.last_audio = clock()  # the start counts: a stream that never comes is silent

    def on_audio(self, samples: bytes) -> bytes:
        """Feed one received frame; answer with as many samples of the session's audio."""
        session = self.session
        if session.done or session.closed:
            # Frames still in flight after the fax ended (or its setup failed).
            return b""
        self.last_audio = self._clock()
        session.receive_audio(samples, self.last_audio)
        reply = session.audio_to_send(len(samples) >> 1)
        self._drain()
        return reply

    def on_dtmf(self, digit: str) -> None:
        """Fax calls ignore DTMF."""

    def on_closed(self, reason: str) -> None:
        """The audio stream ended: a fax still running is over (call dropped)."""
        self.close_reason = reason
        self.end()

    def end(self) -> None:
        """End the session now if it still runs (caller gone, media gone, too long)."""
        if not self.session.done and not self.session.closed:
            self.session.hangup(self._clock())
        self._drain()

    def _drain(self) -> None:
        while (event := self.session.next_event()) is not None:
            self.events.put_nowait(event)


async def enable_t38_gateway(ari: AriClient, channel_id: str) -> None:
    """Let Asterisk turn a T.38 caller into audio for faxcore (before answering)."""
    await ari.set_variable(channel_id, T38_GATEWAY_VARIABLE, "yes")


async def gateway_transport(ari: AriClient, channel_id: str) -> str:
    """``t38`` when Asterisk's gateway runs T.38 with the far end, else ``audio``."""
    with contextlib.suppress(AriError):
        if (await ari.get_variable(channel_id, T38_GATEWAY_VARIABLE)).strip() == "yes":
            return "t38"
    return "audio"


async def run_fax_over_call(
    ari: AriClient,
    media: AudioSocketServer,
    channel_id: str,
    gone: asyncio.Event,
    session: FaxSession,
    on_event: EventSink,
    *,
    clock: Clock = time.monotonic,
) -> FaxCompleted:
    """Bridge ``channel_id`` to ``session`` until the fax ends; return its result.

    ``gone`` is set by the call's owner when the channel hangs up. Every
    session event is awaited through ``on_event`` in order (so a page is
    stored before the next one is announced); the last is the FaxCompleted
    returned. The bridge and the externalMedia channel are always removed.
    """
    endpoint = FaxMediaEndpoint(session, clock)
    limit = session.options.max_duration + _GRACE
    async with media.expect(endpoint) as media_id:
        host, port = media.address
        bridge = await ari.create_bridge("mixing")
        external: str | None = None
        try:
            external = (await ari.external_media(
                f"{host}:{port}", data=str(media_id),
                channel_id=f"{OWN_CHANNEL_PREFIX}media-{media_id}")).id
            await ari.add_channel(bridge.id, external)
            await ari.add_channel(bridge.id, channel_id)
            async with asyncio.TaskGroup() as tg:
                watcher = tg.create_task(_end_when_gone(gone, endpoint), name="fax-call-gone")
                silence = tg.create_task(_end_when_silent(endpoint, channel_id, clock),
                                         name="fax-media-watchdog")
                try:
                    async with asyncio.timeout(limit):
                        result = await _relay_events(endpoint, on_event)
                except TimeoutError:
                    log.warning("fax on %s still running after %.0f s: ending it",
                                channel_id, limit)
                    endpoint.end()
                    result = await _relay_events(endpoint, on_event)
                finally:
                    watcher.cancel()
                    silence.cancel()
            if not result.success:
                log.warning("fax on %s failed after %d page(s): %s; its last T.30 exchanges:\n%s",
                            channel_id, result.pages, result.t30_text, "\n".join(result.trace))
            return result
        finally:
            await asyncio.shield(_tear_down(ari, bridge.id, external))


async def _end_when_gone(gone: asyncio.Event, endpoint: FaxMediaEndpoint) -> None:
    await gone.wait()
    endpoint.end()


async def _end_when_silent(endpoint: FaxMediaEndpoint, channel_id: str, clock: Clock) -> None:
    while not endpoint.session.done:
        await asyncio.sleep(1.0)
        silent = clock() - endpoint.last_audio
        if silent >= MEDIA_SILENCE_SECONDS and not endpoint.session.done:
            log.warning("fax on %s: no audio for %.0f s, ending it as a dropped call",
                        channel_id, silent)
            endpoint.close_reason = endpoint.close_reason or "no audio"
            endpoint.end()
            return


async def _relay_events(endpoint: FaxMediaEndpoint, on_event: EventSink) -> FaxCompleted:
    while True:
        event = await endpoint.events.get()
        await on_event(event)
        if isinstance(event, FaxCompleted):
            return event


async def _tear_down(ari: AriClient, bridge_id: str, external: str | None) -> None:
    if external is not None:
        with contextlib.suppress(AriError):
            await ari.hangup(external)
    with contextlib.suppress(AriError):
        await ari.destroy_bridge(bridge_id)
