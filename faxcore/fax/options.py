"""What a fax session is asked to do: :class:`FaxSessionOptions` and its enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from faxcore.config import FaxConfig
from faxcore.fax.errors import FaxOptionsError
from faxcore.spandsp import MAX_HEADER_INFO_LEN, MAX_IDENT_LEN, Modems, Resolutions


class Direction(enum.Enum):
    """Whether we send a TIFF or receive into one."""

    SEND = "send"
    RECEIVE = "receive"


class SessionWire(enum.Enum):
    """What a ``FaxSession`` speaks: G.711/slin audio frames or T.38 IFP packets.

    Not to be confused with the far end's leg (``gateway_transport``: whether
    Asterisk's gateway met the caller in T.38), nor with ``fax.callmedia``,
    which carries a session's audio over a call.
    """

    AUDIO = "audio"
    T38 = "t38"


class Resolution(enum.Enum):
    """Fax resolutions, all 204 dpi wide; the value is the vertical dpi name."""

    STANDARD = "standard"  # 204x98
    FINE = "fine"  # 204x196
    SUPERFINE = "superfine"  # 204x391

    @property
    def flag(self) -> Resolutions:
        """The spandsp ``T30_SUPPORT_*_RESOLUTION`` bit."""
        return Resolutions[self.name]

    @property
    def y_dpi(self) -> int:
        """Vertical lines per inch: 3.85, 7.7 and 15.4 lines/mm."""
        return {"standard": 98, "fine": 196, "superfine": 391}[self.value]


ALL_RESOLUTIONS = frozenset(Resolution)

# The longest page received: four A4 lengths.  Longer pages are refused and the
# call ends, since spandsp holds a page's decoded rows in memory until its end.
A4_LENGTH_MM = 297
MAX_PAGE_LENGTH_MM = 4 * A4_LENGTH_MM

# Highest bit rate -> modems whose fastest speed it is (V.17 14400, V.29 9600,
# V.27ter 4800); spandsp falls back within them on bad training.
_MODEMS_FOR_RATE = {
    14400: Modems.V17 | Modems.V29 | Modems.V27TER,
    9600: Modems.V29 | Modems.V27TER,
    4800: Modems.V27TER,
}


def rate_cap(bit_rate: int) -> int:
    """The ``max_bit_rate`` whose modems include ``bit_rate`` (V.17's 12000: 14400)."""
    return min(rate for rate in _MODEMS_FOR_RATE if rate >= bit_rate)


@dataclass(frozen=True, slots=True)
class FaxSessionOptions:
    """Options of one fax call.

    ``file`` is the TIFF to send (``Direction.SEND``) or the path to write
    received pages to (``Direction.RECEIVE``).  ``calling`` defaults to True
    when sending (we dialled) and False when receiving (we answered).
    ``max_duration`` (seconds of session time) is a safety net on top of the
    T.30 timers: the call is terminated if it has not ended by then.
    ``max_page_length_mm`` bounds a received page (at its own vertical
    resolution): a longer one is refused and the call terminated.
    """

    direction: Direction
    wire: SessionWire
    file: Path
    calling: bool | None = None
    local_ident: str = ""
    header_info: str = ""
    ecm: bool = True
    resolutions: frozenset[Resolution] = field(default=ALL_RESOLUTIONS)
    max_bit_rate: int = 14400
    t38_version: int = 0
    tep: bool = False
    max_duration: float = 1800.0
    max_page_length_mm: float = MAX_PAGE_LENGTH_MM

    def __post_init__(self) -> None:
        if not isinstance(self.direction, Direction):
            raise FaxOptionsError(f"direction must be a Direction, got {self.direction!r}")
        if not isinstance(self.wire, SessionWire):
            raise FaxOptionsError(f"wire must be a SessionWire, got {self.wire!r}")
        if len(self.local_ident) > MAX_IDENT_LEN or not self.local_ident.isascii():
            raise FaxOptionsError(
                f"local ident must be at most {MAX_IDENT_LEN} ASCII characters: "
                f"{self.local_ident!r}"
            )
        if len(self.header_info) > MAX_HEADER_INFO_LEN or not self.header_info.isascii():
            raise FaxOptionsError(
                f"header info must be at most {MAX_HEADER_INFO_LEN} ASCII characters: "
                f"{self.header_info!r}"
            )
        if not self.resolutions:
            raise FaxOptionsError("at least one resolution must be allowed")
        if self.max_bit_rate not in _MODEMS_FOR_RATE:
            raise FaxOptionsError(
                f"max bit rate must be one of {sorted(_MODEMS_FOR_RATE)}, got {self.max_bit_rate}"
            )
        if not 0 <= self.t38_version <= 3:
            raise FaxOptionsError(f"T.38 version must be 0..3, got {self.t38_version}")
        if self.max_duration <= 0:
            raise FaxOptionsError(f"max duration must be positive, got {self.max_duration}")
        if not self.max_page_length_mm > 0:
            raise FaxOptionsError(
                f"max page length must be positive, got {self.max_page_length_mm} mm")

    @property
    def calling_party(self) -> bool:
        """True if we originated the call (we then wait for the far end's DIS)."""
        if self.calling is None:
            return self.direction is Direction.SEND
        return self.calling

    @property
    def modems(self) -> Modems:
        """Modems allowed by ``max_bit_rate``."""
        return _MODEMS_FOR_RATE[self.max_bit_rate]

    @property
    def resolution_flags(self) -> Resolutions:
        """spandsp bits of the allowed resolutions."""
        flags = Resolutions(0)
        for resolution in self.resolutions:
            flags |= resolution.flag
        return flags


def receiving(fax: FaxConfig, file: Path, local_ident: str) -> FaxSessionOptions:
    """A fax taken from a caller over the call's audio, as the operator set reception up.

    One place for both callers that receive: a line's incoming fax and a
    line's own machine faxing out (T.38 reaches both as audio through
    Asterisk's gateway).
    """
    return FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, file, local_ident=local_ident,
                             ecm=fax.ecm, max_duration=float(fax.max_call_seconds))
