"""A line's fax machine faxing a number that is no line: store the fax, then send it (S1, L4).

Plug & Fax: the subscriber's machine dials the number as it would on a
telephone line. Before answering, faxcore refuses what may not go, with a
cause the machine shows: a line in answering-machine mode (L4), a number
that cannot be dialled from the line's country, a barred destination, no
route out. It answers the rest, receives the fax from the machine (T.38
through Asterisk's gateway, or G.711) and queues it as a send job of the
line, so the fax has the line's identity, header, retries and transmission
report like any fax the line sends (store and forward).

Only a fax the machine finished (every page confirmed, T.30 success) is
queued: a machine cut off mid-fax shows the failure and dials again itself,
and the recipient never gets half a fax and then the whole one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

from faxcore.calls.handlers import Call, Refusal
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineInfo, LineMode
from faxcore.fax.callmedia import enable_t38_gateway, run_fax_over_call
from faxcore.fax.events import FaxEvent
from faxcore.fax.options import receiving
from faxcore.fax.session import FaxSession
from faxcore.media.server import AudioSocketServer
from faxcore.send.destination import (
    CAUSE_REJECTED,
    Barring,
    DestinationRefused,
    destination,
)
from faxcore.send.errors import SendRefused
from faxcore.send.service import SendRequest, SendService

log = logging.getLogger(__name__)

CAUSE_NO_ROUTE = 3  # no route to destination


async def _no_progress(event: FaxEvent) -> None:
    """The fax is kept only once complete: its pages are not announced one by one."""


class FaxMachineOutbound:
    """The ``OutboundHandler`` of fax lines: receive from the machine, queue for sending."""

    def __init__(self, config: FaxcoreConfig, service: SendService,
                 media: AudioSocketServer, work_dir: Path) -> None:
        self.config = config
        self.service = service
        self.media = media
        self.work_dir = work_dir
        self.barring = Barring(config.send.barred, config.send.allow_premium_rate)

    async def refusal(self, call: Call, line: LineInfo) -> Refusal | None:
        """Why the line's call may not go out, before it is answered (None: it may)."""
        if line.mode is not LineMode.FAX:
            return Refusal(f"line {line.number} is in answering-machine mode: fax sending is "
                           "disabled (L4)", CAUSE_REJECTED)
        try:
            destination(call.called, line.number, self.barring)
        except DestinationRefused as exc:
            return Refusal(str(exc), exc.cause)
        if not self.config.trunk_dial:
            return Refusal("no route out: no trunk is configured (trunk.name or "
                           "send.trunk_endpoint)", CAUSE_NO_ROUTE)
        return None

    async def before_answer(self, call: Call, line: LineInfo) -> None:
        """A T.38 machine is turned into audio by Asterisk's gateway."""
        await enable_t38_gateway(call.ari, call.id)

    async def __call__(self, call: Call, line: LineInfo) -> None:
        to = destination(call.called, line.number, self.barring)
        await asyncio.to_thread(self.work_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
        tiff = self.work_dir / f"from-machine-{uuid.uuid4().hex}.tif"
        options = receiving(self.config.fax, tiff, line.station_id or line.number)
        try:
            with FaxSession(options, now=time.monotonic()) as session:
                result = await run_fax_over_call(call.ari, self.media, call.id, call.gone,
                                                 session, _no_progress)
            if not result.success:
                log.warning("line %s: the fax machine's fax to %s was not completed (%s, "
                            "%d page(s)); nothing is sent", line.number, to, result.t30_text,
                            result.pages)
                return
            try:
                [job] = await self.service.submit(SendRequest(
                    line=line.number, to=[to], files=[tiff]))
            except SendRefused as exc:
                log.error("line %s: the fax machine's %d-page fax to %s cannot be sent: %s",
                          line.number, result.pages, to, exc)
                return
            log.info("line %s: the fax machine's %d-page fax to %s queued as job %d",
                     line.number, result.pages, to, job.id)
        finally:
            await asyncio.to_thread(tiff.unlink, missing_ok=True)
