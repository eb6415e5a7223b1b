"""Sans-I/O: how to send to one destination, learned from the attempts (issue 13 item 4).

A ``Route`` says what an attempt to a number uses first: whether the receiver
may switch the call to T.38 (Asterisk's gateway) or stays in G.711, the
highest bit rate, ECM, and the finest resolution it accepts. An attempt that
fails for a reason another route avoids is retried at once on that route
(``fall_back``): a resolution the machine refuses is never a permanent
failure by itself, nor is a T.38 (or G.711) negotiation that breaks down.
What worked is kept per line and destination (``learned``) and used first
the next time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import Path

from faxcore.documents import Quality
from faxcore.fax.options import Resolution, rate_cap
from faxcore.send.failures import Failure, Source
from faxcore.spandsp.t30 import T30Error


class Wire(enum.StrEnum):
    """How the call's media may go."""

    ANY = "any"  # G.711, switched to T.38 when the receiver asks (Asterisk's gateway)
    AUDIO = "audio"  # G.711 only: the receiver's T.38 re-INVITE is declined


# Coarsest first: a fallback steps one place down this list.
_COARSEST_FIRST = list(Resolution)


def _rank(resolution: Resolution) -> int:
    return _COARSEST_FIRST.index(resolution)


def resolution_of(quality: Quality) -> Resolution:
    """The resolution a document of ``quality`` is rendered at (``best`` is superfine)."""
    return next(r for r in Resolution if r.y_dpi == quality.y_dpi)


FASTEST_BIT_RATE = 14400
# The rates spandsp's modems run at (V.27ter, V.29, V.17).
BIT_RATES = frozenset({2400, 4800, 7200, 9600, 12000, 14400})
# Failures of the negotiation (phase B) rather than of the number or the document:
# the media path may be what broke, so the other wire is tried.
_NEGOTIATION = frozenset({
    T30Error.T1_EXPIRED, T30Error.HDLC_CARRIER, T30Error.CANNOT_TRAIN, T30Error.UNEXPECTED,
    T30Error.TX_BADDCS, T30Error.TX_GOTDCN, T30Error.TX_INVALRSP, T30Error.TX_NODIS,
    T30Error.TX_PHBDEAD, T30Error.CALLDROPPED,
})


@dataclass(frozen=True)
class Route:
    """What an attempt to one destination uses first."""

    wire: Wire = Wire.ANY
    max_bit_rate: int = FASTEST_BIT_RATE
    ecm: bool = True
    max_resolution: Resolution = Resolution.SUPERFINE

    def resolution_for(self, quality: Quality) -> Resolution:
        """The resolution to send a ``quality`` document at: its own, or the route's limit."""
        wanted = resolution_of(quality)
        return wanted if _rank(wanted) <= _rank(self.max_resolution) else self.max_resolution


DEFAULT_ROUTE = Route()


@dataclass(frozen=True)
class Fallback:
    """The route the next attempt uses, at once, and why (for the job's reason and report)."""

    route: Route
    why: str


@dataclass(frozen=True)
class AttemptFacts:
    """What an attempt used and met, as far as the route is concerned."""

    failure: Failure | None
    pages: int
    transport: str  # "t38" or "audio": what the call ended up in
    resolution: Resolution  # of the document sent
    bit_rate: int | None = None
    ecm: bool | None = None


def fall_back(route: Route, facts: AttemptFacts) -> Fallback | None:
    """The route that avoids this failed attempt's cause, or ``None`` when none does."""
    failure = facts.failure
    if failure is None or failure.source is not Source.T30:
        return None
    if failure.code == T30Error.NORESSUPPORT and facts.resolution is not Resolution.STANDARD:
        lower = _COARSEST_FIRST[_rank(facts.resolution) - 1]
        return Fallback(replace(route, max_resolution=lower),
                        f"the receiving machine does not accept {facts.resolution.value} "
                        f"resolution: sending at {lower.value}")
    if failure.code in _NEGOTIATION and facts.pages == 0:
        if facts.transport == "t38" and route.wire is Wire.ANY:
            return Fallback(replace(route, wire=Wire.AUDIO),
                            "the T.38 negotiation failed: trying again in G.711")
        if facts.transport == "audio" and route.wire is Wire.AUDIO:
            return Fallback(replace(route, wire=Wire.ANY),
                            "the G.711 negotiation failed: trying again with T.38 allowed")
    return None


def learned(route: Route, facts: AttemptFacts) -> Route:
    """The route to use first next time, after a successful attempt on ``route``.

    The bit rate and ECM that worked are kept, and the wire it went over: a
    receiver that stayed in G.711 although T.38 was allowed is called in G.711
    next time. Its T.38 gateway only cost a silence there: Asterisk mutes the
    call from the receiver's first V.21 until a re-INVITE that a G.711
    receiver never sends (10 s, res_fax's gateway timeout). The resolution
    limit is only ever set by a refusal (a standard fax that went through says
    nothing about fine).
    """
    # A session is capped by modem family: a rate that worked keeps its family.
    rate = rate_cap(facts.bit_rate) if facts.bit_rate in BIT_RATES else route.max_bit_rate
    wire = Wire.ANY if facts.transport == "t38" else Wire.AUDIO
    return replace(route, wire=wire, max_bit_rate=rate,
                   ecm=route.ecm if facts.ecm is None else facts.ecm)


def rendition_path(document: Path, resolution: Resolution) -> Path:
    """Where a batch's document is kept at a coarser ``resolution`` (beside it, same stem)."""
    return document.with_name(f"{document.stem}.{resolution.value}.tif")
