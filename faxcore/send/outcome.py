"""From a claim to what is sent and how, and from the session's end to an attempt result."""

from __future__ import annotations

from pathlib import Path

from faxcore.documents import Quality
from faxcore.documents.rescale import coarser
from faxcore.fax.events import FaxCompleted
from faxcore.fax.options import Direction, FaxSessionOptions, Resolution, SessionWire
from faxcore.send.failures import Failure, Source
from faxcore.send.queue import AttemptResult, Claim
from faxcore.send.routes import rendition_path, resolution_of

WIRE_NAMES = {SessionWire.T38: "t38", SessionWire.AUDIO: "audio"}


def transmit_options(claim: Claim, wire: SessionWire, document: Path | None = None
                     ) -> FaxSessionOptions:
    """Send ``document`` (default: the claim's) as the calling party, identified by the
    line's TSI (S3), with the bit rate and ECM of the destination's route."""
    return FaxSessionOptions(direction=Direction.SEND, wire=wire,
                             file=document or Path(claim.document), calling=True,
                             local_ident=claim.tsi[:20], ecm=claim.route.ecm,
                             max_bit_rate=claim.route.max_bit_rate)


async def document_for(claim: Claim) -> tuple[Path, Resolution]:
    """The pages to send on the claim's route, and their resolution.

    The job's own document, or, for a destination that refuses its
    resolution, a rendition at the finest one it takes (made once per batch,
    removed with the document).
    """
    quality = Quality(claim.quality)
    resolution = claim.route.resolution_for(quality)
    source = Path(claim.document)
    if resolution is resolution_of(quality):
        return source, resolution
    rendition = rendition_path(source, resolution)
    if not rendition.exists():
        await coarser(source, rendition, resolution.y_dpi)
    return rendition, resolution


def attempt_result(completed: FaxCompleted, wire: SessionWire,
                   resolution: Resolution) -> AttemptResult:
    """The attempt's record: T.30 code 0 is success, any other a ``t30`` failure."""
    failure = None if completed.success else Failure(Source.T30, completed.t30_code)
    return AttemptResult(failure, pages=completed.pages, bit_rate=completed.bit_rate or None,
                         remote_csi=completed.remote_ident, transport=WIRE_NAMES[wire],
                         resolution=resolution.value,
                         ecm=completed.ecm if completed.pages else None)
