"""Dialling a send job through Asterisk (ARI) and sending the fax over the call's audio.

The number is called on the line's ATA when it is a faxcore line, else
through ``send.trunk_endpoint``. The originated channel's id starts with the
Stasis app's own-channel prefix, so the app does not route it as a call; its
events reach this module through ``StasisApp.watch``. Once answered, the
document goes out through ``faxcore.fax.callmedia.run_fax_over_call`` (the
media path of reception); Asterisk's T.38 gateway serves T.38 receivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError
from faxcore.ari.events import ChannelStateChange, Event, StasisStart
from faxcore.calls.app import StasisApp
from faxcore.calls.handlers import Call
from faxcore.config import FaxcoreConfig
from faxcore.documents import DocumentError
from faxcore.fax.callmedia import (
    OWN_CHANNEL_PREFIX,
    T38_GATEWAY_VARIABLE,
    gateway_transport,
    run_fax_over_call,
)
from faxcore.fax.events import FaxEvent, Negotiated
from faxcore.fax.options import Resolution, SessionWire
from faxcore.fax.session import FaxSession
from faxcore.media.server import AudioSocketServer
from faxcore.send.failures import Failure, Local, Source
from faxcore.send.outcome import attempt_result, document_for, transmit_options
from faxcore.send.queue import AttemptResult, Claim
from faxcore.send.routes import Wire
from faxcore.storage.db import Database
from faxcore.storage.models import Line

log = logging.getLogger(__name__)

_Q850_NO_ANSWER = 19

_ANSWER_SLACK = 15.0  # seconds past the ring timeout before the attempt is abandoned


class AriTransmitter:
    """The worker's ``Transmit``: one attempt is one originated call."""

    def __init__(self, config: FaxcoreConfig, db: Database, ari: AriClient, app: StasisApp,
                 media: AudioSocketServer) -> None:
        self.config = config
        self.db = db
        self.ari = ari
        self.app = app
        self.media = media

    async def endpoint(self, number: str) -> str | None:
        """The dial string: the line's ATA, the trunk, or ``None`` (no route)."""
        async with self.db.session(read_only=True) as session:
            line = (await session.scalars(select(Line).where(Line.number == number))).first()
        if line is not None:
            return f"PJSIP/{line.sip_username}"
        if self.config.trunk_dial:
            return self.config.trunk_dial.format(number=number, digits=number[1:])
        return None

    async def __call__(self, claim: Claim) -> AttemptResult:
        endpoint = await self.endpoint(claim.to_number)
        if endpoint is None:
            return AttemptResult(Failure(Source.LOCAL, Local.NO_ROUTE))
        channel_id = attempt_channel_id(claim)
        ring = self.config.send.ring_timeout
        try:
            document, resolution = await document_for(claim)
        except (DocumentError, OSError) as exc:
            log.warning("send job %s: no document to send at the destination's resolution: %s",
                        claim.job_id, exc)
            return AttemptResult(Failure(Source.LOCAL, Local.DOCUMENT))
        # The T.38 gateway must be on before the receiver's re-INVITE, which may
        # follow the answer at once: set it at creation. Without it Asterisk
        # declines the re-INVITE and the call stays in G.711.
        variables = {T38_GATEWAY_VARIABLE: "yes"} if claim.route.wire is Wire.ANY else {}
        with self.app.watch(channel_id, claim.to_number) as call:
            try:
                await self.ari.originate(endpoint, channel_id=channel_id,
                                         caller_id=claim.line_number, timeout=ring,
                                         variables=variables)
            except AriError as exc:
                log.warning("send job %s: originate %s failed: %s", claim.job_id, endpoint, exc)
                return AttemptResult(Failure(Source.LOCAL, Local.DIAL_ERROR))
            try:
                if not await _answered(call, ring + _ANSWER_SLACK):
                    return AttemptResult(Failure(Source.Q850, call.cause or _Q850_NO_ANSWER))
                return await self._send(claim, call, document, resolution)
            finally:
                with contextlib.suppress(AriError):
                    await asyncio.shield(self.ari.hangup(channel_id))

    async def _send(self, claim: Claim, call: Call, document: Path,
                    resolution: Resolution) -> AttemptResult:
        transport = "audio"

        async def on_event(event: FaxEvent) -> None:
            nonlocal transport
            if isinstance(event, Negotiated):
                transport = await gateway_transport(call.ari, call.id)

        fax = self.config.fax
        options = replace(transmit_options(claim, SessionWire.AUDIO, document),
                          ecm=fax.ecm and claim.route.ecm,
                          max_duration=float(fax.max_call_seconds))
        with FaxSession(options, time.monotonic()) as session:
            completed = await run_fax_over_call(self.ari, self.media, call.id, call.gone,
                                                session, on_event)
        return replace(attempt_result(completed, SessionWire.AUDIO, resolution),
                       transport="t38" if transport == "t38" else "audio")


def attempt_channel_id(claim: Claim) -> str:
    """The ARI id of one attempt's channel: readable (job, attempt) and never reused.

    Job ids restart with a new database and repeat across nodes sharing one
    Asterisk; a late event of an earlier channel with the same id (its
    ChannelDestroyed, still in flight) would end this attempt's call before
    it rang. Seen in CI: a busy receiver reported as "nobody answered".
    """
    return f"{OWN_CHANNEL_PREFIX}send-{claim.job_id}-{claim.attempt}-{uuid.uuid4().hex[:12]}"


async def _answered(call: Call, timeout: float) -> bool:
    """Wait for the answer (the channel enters Stasis) or the end of the call."""
    try:
        async with asyncio.timeout(timeout):
            while (event := await call.next_event()) is not None:
                if _is_answer(event):
                    return True
    except TimeoutError:
        return False
    return False


def _is_answer(event: Event) -> bool:
    """The originated channel was answered: it entered the app, or its state went up."""
    if isinstance(event, StasisStart):
        return True
    return isinstance(event, ChannelStateChange) and event.channel.state == "Up"
