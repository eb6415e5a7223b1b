"""T.30 layer: constants, transfer statistics and the options of a ``t30_state_t``.

A :class:`T30` never owns its pointer: the :class:`~faxcore.spandsp.channel.FaxChannel`
or :class:`~faxcore.spandsp.channel.T38Terminal` it came from does, and keeps
the phase handlers referenced for as long as C may call them.
"""

from __future__ import annotations

import ctypes
import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faxcore.security import untrusted
from faxcore.spandsp import _lib
from faxcore.spandsp._owned import Handle
from faxcore.spandsp.errors import CallError

# t30.h: T30_MAX_IDENT_LEN; the page header is printed on one 1728-pel line.
MAX_IDENT_LEN = 20
MAX_HEADER_INFO_LEN = 50
# logging.h: SPAN_LOG_FLOW logs every T.30 frame, state change and timer expiry
# (and every error and protocol warning below it); nothing per audio sample.
SPAN_LOG_FLOW = 5
# A T.30 log line names frames, states and the far end's idents: a few dozen
# characters; longer ones are cut here, where they leave spandsp.
TRACE_LINE_MAX = 160


class T30Error(enum.IntEnum):
    """T.30 phase E completion codes (``T30_ERR_*``), in header order."""

    OK = 0
    CEDTONE = 1
    T0_EXPIRED = 2
    T1_EXPIRED = 3
    T3_EXPIRED = 4
    HDLC_CARRIER = 5
    CANNOT_TRAIN = 6
    OPER_INT_FAIL = 7
    INCOMPATIBLE = 8
    RX_INCAPABLE = 9
    TX_INCAPABLE = 10
    NORESSUPPORT = 11
    NOSIZESUPPORT = 12
    UNEXPECTED = 13
    TX_BADDCS = 14
    TX_BADPG = 15
    TX_ECMPHD = 16
    TX_GOTDCN = 17
    TX_INVALRSP = 18
    TX_NODIS = 19
    TX_PHBDEAD = 20
    TX_PHDDEAD = 21
    TX_T5EXP = 22
    RX_ECMPHD = 23
    RX_GOTDCS = 24
    RX_INVALCMD = 25
    RX_NOCARRIER = 26
    RX_NOEOL = 27
    RX_NOFAX = 28
    RX_T2EXPDCN = 29
    RX_T2EXPD = 30
    RX_T2EXPFAX = 31
    RX_T2EXPMPS = 32
    RX_T2EXPRR = 33
    RX_T2EXP = 34
    RX_DCNWHY = 35
    RX_DCNDATA = 36
    RX_DCNFAX = 37
    RX_DCNPHD = 38
    RX_DCNRRD = 39
    RX_DCNNORTN = 40
    FILEERROR = 41
    NOPAGE = 42
    BADTIFF = 43
    BADPAGE = 44
    BADTAG = 45
    BADTIFFHDR = 46
    NOMEM = 47
    RETRYDCN = 48
    CALLDROPPED = 49
    NOPOLL = 50
    IDENT_UNACCEPTABLE = 51
    SUB_UNACCEPTABLE = 52
    SEP_UNACCEPTABLE = 53
    PSA_UNACCEPTABLE = 54
    SID_UNACCEPTABLE = 55
    PWD_UNACCEPTABLE = 56
    TSA_UNACCEPTABLE = 57
    IRA_UNACCEPTABLE = 58
    CIA_UNACCEPTABLE = 59
    ISP_UNACCEPTABLE = 60
    CSA_UNACCEPTABLE = 61


class Modems(enum.IntFlag):
    """``T30_SUPPORT_*`` modem bits."""

    V27TER = 0x01
    V29 = 0x02
    V17 = 0x04


class Compressions(enum.IntFlag):
    """``T30_SUPPORT_*_COMPRESSION`` bits usable with 0.0.6."""

    T4_1D = 0x02
    T4_2D = 0x04
    T6 = 0x08


class Resolutions(enum.IntFlag):
    """``T30_SUPPORT_*_RESOLUTION`` bits for 204 dpi wide pages."""

    STANDARD = 0x01
    FINE = 0x02
    SUPERFINE = 0x04


class ImageSizes(enum.IntFlag):
    """``T30_SUPPORT_*`` page width and length bits."""

    WIDTH_215MM = 0x01
    WIDTH_255MM = 0x02
    WIDTH_303MM = 0x04
    UNLIMITED_LENGTH = 0x10000
    A4_LENGTH = 0x20000
    B4_LENGTH = 0x40000
    US_LETTER_LENGTH = 0x80000
    US_LEGAL_LENGTH = 0x100000


class Compression(enum.IntEnum):
    """``T4_COMPRESSION_ITU_*``: the coding of the page on the line."""

    NONE = 0
    T4_1D = 1
    T4_2D = 2
    T6 = 3


# Vertical resolution in pixels per metre (t4_rx.h) -> name used by faxcore.
_Y_RESOLUTIONS = {3850: "standard", 7700: "fine", 15400: "superfine"}


def resolution_name(y_pixels_per_metre: int) -> str:
    """Name a T.4 vertical resolution (``standard``/``fine``/``superfine``)."""
    for value, name in _Y_RESOLUTIONS.items():
        if abs(y_pixels_per_metre - value) <= value // 50:
            return name
    return f"{y_pixels_per_metre}ppm" if y_pixels_per_metre else "unknown"


def completion_text(code: int) -> str:
    """``t30_completion_code_to_str``: spandsp's text for a phase E code."""
    return _lib.decode(_lib.lib().t30_completion_code_to_str(code))


@dataclass(frozen=True, slots=True)
class TransferStatistics:
    """``t30_stats_t`` as Python values (see ``t30_get_transfer_statistics``)."""

    bit_rate: int
    ecm: bool
    pages_tx: int
    pages_rx: int
    pages_in_file: int
    x_resolution: int
    y_resolution: int
    width: int
    length: int
    image_size: int
    compression: int
    bad_rows: int
    longest_bad_row_run: int
    ecm_retries: int
    current_status: int

    @property
    def resolution(self) -> str:
        """Vertical resolution by name (``fine`` ...)."""
        return resolution_name(self.y_resolution)


PhaseHandler = Callable[[int], None]


class T30:
    """Options and state of the T.30 engine inside a fax channel or T.38 terminal.

    Handlers are plain Python callables taking the event code; they run inside
    ``fax_rx``/``fax_tx``/``t38_terminal_send_timeout``.  ctypes cannot carry an
    exception through C, so one raised by a handler is stored and re-raised by
    the object layer when that C call returns.
    """

    def __init__(self, handle: Handle, pointer: int) -> None:
        self._handle = handle
        self._ptr_value = _lib.check_pointer("get_t30_state", pointer)
        self._lib = _lib.lib()
        self._stats = _lib.T30Stats()

    @property
    def _ptr(self) -> int:
        """The ``t30_state_t*``, refused once the owning object is closed."""
        self._handle.get()
        return self._ptr_value

    def set_local_ident(self, ident: str) -> None:
        """Our station id: sent as TSI when sending and CSI when receiving."""
        raw = _lib.encode(ident, "local ident", MAX_IDENT_LEN)
        _lib.check_status("t30_set_tx_ident", self._lib.t30_set_tx_ident(self._ptr, raw))

    def set_header_info(self, info: str) -> None:
        """Text of the header line spandsp prints on top of each sent page."""
        raw = _lib.encode(info, "header info", MAX_HEADER_INFO_LEN)
        _lib.check_status(
            "t30_set_tx_page_header_info", self._lib.t30_set_tx_page_header_info(self._ptr, raw)
        )

    def set_ecm(self, enabled: bool) -> None:
        """Offer/accept error correction mode."""
        _lib.check_status(
            "t30_set_ecm_capability", self._lib.t30_set_ecm_capability(self._ptr, int(enabled))
        )

    def set_supported_modems(self, modems: Modems) -> None:
        """Modems we may train with (V.17 gives 14400 bit/s)."""
        _lib.check_status(
            "t30_set_supported_modems", self._lib.t30_set_supported_modems(self._ptr, int(modems))
        )

    def set_supported_compressions(self, compressions: Compressions) -> None:
        """Line codings we accept (T.6 needs ECM)."""
        _lib.check_status(
            "t30_set_supported_compressions",
            self._lib.t30_set_supported_compressions(self._ptr, int(compressions)),
        )

    def set_supported_resolutions(self, resolutions: Resolutions) -> None:
        """Resolutions we receive."""
        _lib.check_status(
            "t30_set_supported_resolutions",
            self._lib.t30_set_supported_resolutions(self._ptr, int(resolutions)),
        )

    def set_supported_image_sizes(self, sizes: ImageSizes) -> None:
        """Page widths and lengths we receive."""
        _lib.check_status(
            "t30_set_supported_image_sizes",
            self._lib.t30_set_supported_image_sizes(self._ptr, int(sizes)),
        )

    def set_tx_file(self, path: str | Path, start_page: int = -1, stop_page: int = -1) -> None:
        """TIFF-F to send (spandsp opens it at phase B; errors come at phase E)."""
        self._lib.t30_set_tx_file(self._ptr, _path_bytes(path), start_page, stop_page)

    def set_rx_file(self, path: str | Path, stop_page: int = -1) -> None:
        """TIFF-F to write received pages into."""
        self._lib.t30_set_rx_file(self._ptr, _path_bytes(path), stop_page)

    def _guarded(self, handler: PhaseHandler) -> Callable[[int | None, int | None, int], int]:
        """A C callback running ``handler``; its exception is re-raised after C returns."""

        def _call(_s: int | None, _u: int | None, value: int) -> int:
            try:
                handler(value)
            except BaseException as exc:
                self._handle.store(exc)
            return 0

        return _call

    def set_phase_b_handler(self, handler: PhaseHandler) -> None:
        """Called after DIS/DCS exchange (negotiation, remote ident known)."""
        cb = _lib.T30_PHASE_B_HANDLER(self._guarded(handler))
        self._handle.callbacks.append(cb)
        self._lib.t30_set_phase_b_handler(self._ptr, cb, None)

    def set_phase_d_handler(self, handler: PhaseHandler) -> None:
        """Called after each page's post-page exchange."""
        cb = _lib.T30_PHASE_D_HANDLER(self._guarded(handler))
        self._handle.callbacks.append(cb)
        self._lib.t30_set_phase_d_handler(self._ptr, cb, None)

    def set_phase_e_handler(self, handler: PhaseHandler) -> None:
        """Called once when the call ends with its completion code."""
        guarded = self._guarded(handler)

        def _call(s: int | None, u: int | None, code: int) -> None:  # void in C
            guarded(s, u, code)

        cb = _lib.T30_PHASE_E_HANDLER(_call)
        self._handle.callbacks.append(cb)
        self._lib.t30_set_phase_e_handler(self._ptr, cb, None)

    def trace(self, handler: Callable[[str], None]) -> None:
        """Hand every T.30 protocol log line (frames, states, timers) to ``handler``.

        The lines quote what the far end sent (idents, frames), so each is
        cleaned to bounded printable text before ``handler`` sees it.
        """

        def _call(_level: int, line: bytes | None) -> None:
            try:
                handler(untrusted.text(line, TRACE_LINE_MAX))
            except BaseException as exc:
                self._handle.store(exc)

        cb = _lib.SPAN_MESSAGE_HANDLER(_call)
        self._handle.callbacks.append(cb)
        logging_state = _lib.check_pointer(
            "t30_get_logging_state", self._lib.t30_get_logging_state(self._ptr)
        )
        self._lib.span_log_set_message_handler(logging_state, cb)
        self._lib.span_log_set_level(logging_state, SPAN_LOG_FLOW)

    def remote_ident(self) -> str:
        """The far end's TSI/CSI, ``""`` until phase B; printable ASCII, at most 20 characters.

        The sender's fax machine chose it: it is cleaned here, where it enters faxcore.
        """
        return untrusted.station_id(_lib.decode(self._lib.t30_get_rx_ident(self._ptr)))

    def statistics(self) -> TransferStatistics:
        """``t30_get_transfer_statistics`` now."""
        st = self._stats
        self._lib.t30_get_transfer_statistics(self._ptr, ctypes.byref(st))
        return TransferStatistics(
            bit_rate=st.bit_rate,
            ecm=bool(st.error_correcting_mode),
            pages_tx=st.pages_tx,
            pages_rx=st.pages_rx,
            pages_in_file=st.pages_in_file,
            x_resolution=st.x_resolution,
            y_resolution=st.y_resolution,
            width=st.width,
            length=st.length,
            image_size=st.image_size,
            compression=st.encoding,
            bad_rows=st.bad_rows,
            longest_bad_row_run=st.longest_bad_row_run,
            ecm_retries=st.error_correcting_mode_retries,
            current_status=st.current_status,
        )

    def page_rows(self) -> tuple[int, int]:
        """``(rows, y pixels per metre)`` of the page being received or just received.

        spandsp decodes each received row into one growing buffer and counts
        it as it goes, so this is what the page in progress holds right now;
        cheaper than :meth:`statistics` for a check after every frame.
        """
        st = self._stats
        self._lib.t30_get_transfer_statistics(self._ptr, ctypes.byref(st))
        return st.length, st.y_resolution

    def call_active(self) -> bool:
        """True while the T.30 call is in progress."""
        return bool(self._lib.t30_call_active(self._ptr))

    def terminate(self) -> None:
        """End the call now (phase E runs with the current status)."""
        self._lib.t30_terminate(self._ptr)
        self._handle.raise_pending()


def _path_bytes(path: str | Path) -> bytes:
    raw = str(path).encode()
    if b"\0" in raw:
        raise CallError(f"path with NUL: {path!r}", -1)
    return raw
