"""Fax detection (R6): hear a calling fax's CNG tone on a call while something else plays.

Reusable by any handler that answers calls with audio (the answering
machine). Interface::

    async with watch_for_fax(ari, media, call.id) as fax_heard:  # an asyncio.Event
        ...play the greeting, record the message...
        if fax_heard.is_set(): break
    if fax_heard.is_set():
        await fax_handler(call, line)   # faxcore.reception.handler.FaxReceptionHandler

How: a snoop channel (``spy=in``: the caller's audio only, never the greeting)
is bridged with an externalMedia AudioSocket channel whose endpoint feeds
spandsp's ``modem_connect_tones_rx`` (CNG, 1100 Hz cadenced). The caller's
channel is left out of any bridge, so playbacks and recordings on it work as
usual. Leaving the block removes the snoop, the stream and the bridge; the fax
itself is then received over a fresh media path (the calling fax repeats CNG
until its T1 timer, 35 s, runs out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError
from faxcore.fax.callmedia import OWN_CHANNEL_PREFIX
from faxcore.media.server import AudioSocketServer
from faxcore.spandsp import ToneDetector
from faxcore.spandsp.channel import Tone

log = logging.getLogger(__name__)


class CngListener:
    """A ``MediaEndpoint`` that only listens: sets ``heard`` on the first CNG tone."""

    def __init__(self) -> None:
        self.detector = ToneDetector(Tone.FAX_CNG)
        self.heard = asyncio.Event()

    def on_audio(self, samples: bytes) -> bytes:
        """Feed the detector; send nothing back (the snoop does not whisper)."""
        if not self.heard.is_set() and self.detector.rx(samples):
            self.heard.set()
        return b""

    def on_dtmf(self, digit: str) -> None:
        """DTMF is the answering machine's business, not the detector's."""

    def on_closed(self, reason: str) -> None:
        """Nothing to do: the watcher's owner tears the path down."""


@contextlib.asynccontextmanager
async def watch_for_fax(ari: AriClient, media: AudioSocketServer,
                        channel_id: str) -> AsyncIterator[asyncio.Event]:
    """Listen for CNG on ``channel_id`` inside the block; yields the event set when heard."""
    listener = CngListener()
    host, port = media.address
    made: list[str] = []
    bridge_id = ""
    async with media.expect(listener) as stream_id:
        try:
            tag = uuid.uuid4().hex
            snoop = await ari.snoop(channel_id, spy="in",
                                    snoop_id=f"{OWN_CHANNEL_PREFIX}snoop-{tag}")
            made.append(snoop.id)
            external = await ari.external_media(
                f"{host}:{port}", data=str(stream_id),
                channel_id=f"{OWN_CHANNEL_PREFIX}detect-{tag}")
            made.append(external.id)
            bridge_id = (await ari.create_bridge("mixing")).id
            await ari.add_channel(bridge_id, snoop.id)
            await ari.add_channel(bridge_id, external.id)
            yield listener.heard
        finally:
            await asyncio.shield(_remove(ari, made, bridge_id))
    listener.detector.close()


async def _remove(ari: AriClient, channels: list[str], bridge_id: str) -> None:
    for channel in channels:
        with contextlib.suppress(AriError):
            await ari.hangup(channel)
    if bridge_id:
        with contextlib.suppress(AriError):
            await ari.destroy_bridge(bridge_id)
