"""The outbound dialler's own rules, without Asterisk."""

from __future__ import annotations

from faxcore.fax.callmedia import OWN_CHANNEL_PREFIX
from faxcore.send.dial import attempt_channel_id
from faxcore.send.queue import Claim


def test_an_attempt_s_channel_id_names_its_job_and_attempt_and_is_never_reused() -> None:
    """Job ids repeat (a new database, another node on the same Asterisk): a late
    event of an earlier channel with the same id once ended a new attempt's call."""
    claim = Claim(job_id=1, attempt_id=1, attempt=1, worker="w", line_number="+33972100001",
                  to_number="+33140000091", document="doc.tif", pages=1, tsi="")
    first, again = attempt_channel_id(claim), attempt_channel_id(claim)
    assert first != again
    for channel_id in (first, again):
        assert channel_id.startswith(f"{OWN_CHANNEL_PREFIX}send-1-1-")
        # Short and plain: Asterisk keeps at most 149 characters of a channel's
        # unique id (AST_MAX_PUBLIC_UNIQUEID), and the id appears in every log line.
        assert len(channel_id) <= 64 and channel_id.isascii()
