"""ctypes binding of libspandsp 0.0.6: fax over audio and T.38, T.30 options, tone detection.

Layers, as in pynacl: :mod:`faxcore.spandsp._lib` declares the C prototypes;
:mod:`faxcore.spandsp.t30` and :mod:`faxcore.spandsp.channel` are objects
owning their C pointers.  ctypes (stdlib) was chosen over cffi: no compiler or
extra wheel at install time, and the call overhead was measured small next to
the modem DSP (see ``faxcore bench fax``).
"""

from faxcore.spandsp.channel import (
    SAMPLE_RATE,
    FaxChannel,
    T38Terminal,
    Tone,
    ToneDetector,
    int16_buffer,
)
from faxcore.spandsp.errors import (
    CallError,
    ClosedError,
    InitError,
    InvalidPacketError,
    LibraryNotFoundError,
    SpandspError,
)
from faxcore.spandsp.t30 import (
    MAX_HEADER_INFO_LEN,
    MAX_IDENT_LEN,
    T30,
    Compression,
    Compressions,
    ImageSizes,
    Modems,
    Resolutions,
    T30Error,
    TransferStatistics,
    completion_text,
    resolution_name,
)

__all__ = [
    "MAX_HEADER_INFO_LEN",
    "MAX_IDENT_LEN",
    "SAMPLE_RATE",
    "T30",
    "CallError",
    "ClosedError",
    "Compression",
    "Compressions",
    "FaxChannel",
    "ImageSizes",
    "InitError",
    "InvalidPacketError",
    "LibraryNotFoundError",
    "Modems",
    "Resolutions",
    "SpandspError",
    "T30Error",
    "T38Terminal",
    "Tone",
    "ToneDetector",
    "TransferStatistics",
    "completion_text",
    "int16_buffer",
    "resolution_name",
]
