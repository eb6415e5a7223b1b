"""Fax calls as sans-I/O sessions over the spandsp binding (audio and T.38)."""

from faxcore.fax.errors import FaxError, FaxFileError, FaxOptionsError, FaxStateError
from faxcore.fax.events import (
    FaxCompleted,
    FaxEvent,
    Negotiated,
    PageRefused,
    PageTransferred,
    RemoteIdentified,
)
from faxcore.fax.options import (
    MAX_PAGE_LENGTH_MM,
    Direction,
    FaxSessionOptions,
    Resolution,
    SessionWire,
)
from faxcore.fax.session import AUDIO_GAP, T38_TICK, FaxSession

__all__ = [
    "AUDIO_GAP",
    "MAX_PAGE_LENGTH_MM",
    "T38_TICK",
    "Direction",
    "FaxCompleted",
    "FaxError",
    "FaxEvent",
    "FaxFileError",
    "FaxOptionsError",
    "FaxSession",
    "FaxSessionOptions",
    "FaxStateError",
    "Negotiated",
    "PageRefused",
    "PageTransferred",
    "RemoteIdentified",
    "Resolution",
    "SessionWire",
]
