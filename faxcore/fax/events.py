"""Events a :class:`~faxcore.fax.session.FaxSession` reports through ``next_event()``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RemoteIdentified:
    """The far end told us its station id (TSI when it sends, CSI when it receives)."""

    station_id: str


@dataclass(frozen=True, slots=True)
class Negotiated:
    """Page transfer parameters agreed (again, if they change after a retrain)."""

    bit_rate: int
    ecm: bool
    resolution: str
    compression: int


@dataclass(frozen=True, slots=True)
class PageTransferred:
    """One more page was sent or received and confirmed in phase D."""

    page_no: int
    bit_rate: int
    ecm: bool
    resolution: str
    width: int
    length: int
    bad_rows: int


@dataclass(frozen=True, slots=True)
class PageRefused:
    """A received page grew longer than allowed: it is dropped and the call ends.

    ``rows`` is what spandsp held when the page was stopped, ``max_rows`` the
    limit at the page's resolution.
    """

    page_no: int
    rows: int
    max_rows: int
    resolution: str


@dataclass(frozen=True, slots=True)
class FaxCompleted:
    """Phase E: the call is over; ``success`` means T.30 code 0 (OK)."""

    success: bool
    t30_code: int
    t30_text: str
    pages: int
    bit_rate: int
    ecm: bool
    remote_ident: str
    duration: float
    # A failed call's last T.30 log lines (frames, states, timers), oldest first,
    # each "<seconds since the start> <line>": why it failed, for the operator.
    trace: tuple[str, ...] = ()


FaxEvent = RemoteIdentified | Negotiated | PageTransferred | PageRefused | FaxCompleted
