"""Fax calls as sans-I/O sessions over the spandsp binding (audio and T.38)."""

from faxcore.fax.errors import FaxError, FaxFileError, FaxOptionsError, FaxStateError
from faxcore.fax.events import (
    FaxCompleted,
    FaxEvent,
    Negotiated,
    PageTransferred,
    RemoteIdentified,
)
from faxcore.fax.options import Direction, FaxSessionOptions, Resolution, Transport
from faxcore.fax.session import AUDIO_GAP, T38_TICK, FaxSession

__all__ = [
    "AUDIO_GAP",
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
    "PageTransferred",
    "RemoteIdentified",
    "Resolution",
    "Transport",
]
