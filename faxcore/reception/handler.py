"""The call handler of fax-mode lines: receive the fax, keep it, settle it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from faxcore.calls.handlers import Call
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineInfo
from faxcore.fax.callmedia import enable_t38_gateway, gateway_transport, run_fax_over_call
from faxcore.fax.events import (
    FaxEvent,
    Negotiated,
    PageRefused,
    PageTransferred,
    RemoteIdentified,
)
from faxcore.fax.options import receiving
from faxcore.fax.session import FaxSession
from faxcore.media.server import AudioSocketServer
from faxcore.reception.store import FaxStore

log = logging.getLogger(__name__)

# Once the fax is negotiated, Asterisk's T.38 gateway reads "yes" here when it
# runs T.38 with the caller; it switches itself to "no" when the caller stays
# in audio (G.711), having found no T.38 to translate (seen in the lab).
class FaxReceptionHandler:
    """Receives a fax on an answered call of a fax line (R1-R3)."""

    def __init__(self, store: FaxStore, media: AudioSocketServer, config: FaxcoreConfig) -> None:
        self.store = store
        self.media = media
        self.config = config

    async def before_answer(self, call: Call, line: LineInfo) -> None:
        """T.38 callers are turned into audio by Asterisk's gateway."""
        await enable_t38_gateway(call.ari, call.id)

    async def __call__(self, call: Call, line: LineInfo) -> None:
        local_id = line.station_id or line.number
        fax = await self.store.start(line, caller=call.channel.caller.number,
                                     channel_id=call.id, local_station_id=local_id)
        options = receiving(self.config.fax, Path(fax.tiff_path), local_id)
        transport = "audio"

        async def progress(event: FaxEvent) -> None:
            nonlocal transport
            if isinstance(event, PageTransferred):
                await self.store.update(fax.id, pages=event.page_no, bit_rate=event.bit_rate,
                                        ecm=event.ecm)
                log.info("fax %d on %s: page %d received", fax.id, line.number, event.page_no)
            elif isinstance(event, RemoteIdentified):
                await self.store.update(fax.id, remote_station_id=event.station_id)
            elif isinstance(event, Negotiated):
                transport = await gateway_transport(call.ari, call.id)
            elif isinstance(event, PageRefused):
                log.warning("fax %d on %s: page %d refused after %d rows (limit %d at %s); "
                            "ending the call", fax.id, line.number, event.page_no, event.rows,
                            event.max_rows, event.resolution)

        with FaxSession(options, now=time.monotonic()) as session:
            result = await run_fax_over_call(call.ari, self.media, call.id, call.gone, session,
                                             progress)
        view = await self.store.settle(fax.id, result, transport)
        log.info("fax %d on %s from %r: %s, %d page(s), %s", view.id, line.number, view.caller,
                 view.state.value, view.pages, view.result_text)
