"""From a claim to fax session options, and from the session's end to an attempt result."""

from __future__ import annotations

from pathlib import Path

from faxcore.fax.events import FaxCompleted
from faxcore.fax.options import Direction, FaxSessionOptions, SessionWire
from faxcore.send.failures import Failure, Source
from faxcore.send.queue import AttemptResult, Claim

WIRE_NAMES = {SessionWire.T38: "t38", SessionWire.AUDIO: "audio"}


def transmit_options(claim: Claim, wire: SessionWire) -> FaxSessionOptions:
    """Send the claim's document as the calling party, identified by the line's TSI (S3)."""
    return FaxSessionOptions(direction=Direction.SEND, wire=wire,
                             file=Path(claim.document), calling=True,
                             local_ident=claim.tsi[:20])


def attempt_result(completed: FaxCompleted, wire: SessionWire) -> AttemptResult:
    """The attempt's record: T.30 code 0 is success, any other a ``t30`` failure."""
    failure = None if completed.success else Failure(Source.T30, completed.t30_code)
    return AttemptResult(failure, pages=completed.pages, bit_rate=completed.bit_rate or None,
                         remote_csi=completed.remote_ident, transport=WIRE_NAMES[wire])
