"""Low layer: ctypes prototypes of the libspandsp 0.0.6 functions faxcore uses.

Every function gets exact ``argtypes``/``restype`` (a wrong prototype corrupts
the stack silently, so nothing is left to ctypes' defaults).  Status-returning
calls are wrapped by the ``check_*`` helpers, which turn failure codes into
:class:`~faxcore.spandsp.errors.SpandspError` subclasses.  The object layer
(:mod:`faxcore.spandsp.channel`, :mod:`faxcore.spandsp.t30`) is the only user.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from ctypes import (
    CFUNCTYPE,
    POINTER,
    c_char_p,
    c_int,
    c_int16,
    c_uint16,
    c_void_p,
)
from typing import Any

from faxcore.spandsp.errors import CallError, InitError, LibraryNotFoundError

LIBRARY_NAMES = ("libspandsp.so.2", "libspandsp.so")

# Callback types (t30.h, t38_core.h, super_tone_rx.h).
T30_PHASE_B_HANDLER = CFUNCTYPE(c_int, c_void_p, c_void_p, c_int)
T30_PHASE_D_HANDLER = CFUNCTYPE(c_int, c_void_p, c_void_p, c_int)
T30_PHASE_E_HANDLER = CFUNCTYPE(None, c_void_p, c_void_p, c_int)
# The IFP buffer arrives as a plain address, copied out with ctypes.string_at.
T38_TX_PACKET_HANDLER = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_int, c_int)
TONE_REPORT_FUNC = CFUNCTYPE(None, c_void_p, c_int, c_int, c_int)
# logging.h: one formatted log line (level, text); spandsp passes no user data.
SPAN_MESSAGE_HANDLER = CFUNCTYPE(None, c_int, c_char_p)


class T30Stats(ctypes.Structure):
    """``t30_stats_t`` of spandsp 0.0.6 (t30.h), field for field."""

    _fields_ = [
        ("bit_rate", c_int),
        ("error_correcting_mode", c_int),
        ("pages_tx", c_int),
        ("pages_rx", c_int),
        ("pages_in_file", c_int),
        ("x_resolution", c_int),
        ("y_resolution", c_int),
        ("width", c_int),
        ("length", c_int),
        ("image_size", c_int),
        ("encoding", c_int),
        ("bad_rows", c_int),
        ("longest_bad_row_run", c_int),
        ("error_correcting_mode_retries", c_int),
        ("current_status", c_int),
    ]


# name: (restype, argtypes)
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    # fax.h
    "fax_init": (c_void_p, [c_void_p, c_int]),
    "fax_free": (c_int, [c_void_p]),
    "fax_rx": (c_int, [c_void_p, POINTER(c_int16), c_int]),
    "fax_rx_fillin": (c_int, [c_void_p, c_int]),
    "fax_tx": (c_int, [c_void_p, POINTER(c_int16), c_int]),
    "fax_set_transmit_on_idle": (None, [c_void_p, c_int]),
    "fax_set_tep_mode": (None, [c_void_p, c_int]),
    "fax_get_t30_state": (c_void_p, [c_void_p]),
    # t38_terminal.h
    "t38_terminal_init": (c_void_p, [c_void_p, c_int, T38_TX_PACKET_HANDLER, c_void_p]),
    "t38_terminal_free": (c_int, [c_void_p]),
    "t38_terminal_send_timeout": (c_int, [c_void_p, c_int]),
    "t38_terminal_set_config": (None, [c_void_p, c_int]),
    "t38_terminal_set_tep_mode": (None, [c_void_p, c_int]),
    "t38_terminal_get_t30_state": (c_void_p, [c_void_p]),
    "t38_terminal_get_t38_core_state": (c_void_p, [c_void_p]),
    # t38_core.h
    # const uint8_t *: immutable bytes are passed without a copy.
    "t38_core_rx_ifp_packet": (c_int, [c_void_p, c_char_p, c_int, c_uint16]),
    "t38_set_t38_version": (None, [c_void_p, c_int]),
    "t38_set_fastest_image_data_rate": (None, [c_void_p, c_int]),
    "t38_get_fastest_image_data_rate": (c_int, [c_void_p]),
    # t30.h / t30_api.h / t30_logging.h
    "t30_terminate": (None, [c_void_p]),
    "t30_call_active": (c_int, [c_void_p]),
    "t30_get_transfer_statistics": (None, [c_void_p, POINTER(T30Stats)]),
    "t30_set_tx_ident": (c_int, [c_void_p, c_char_p]),
    "t30_get_rx_ident": (c_char_p, [c_void_p]),
    "t30_set_tx_page_header_info": (c_int, [c_void_p, c_char_p]),
    "t30_set_rx_file": (None, [c_void_p, c_char_p, c_int]),
    "t30_set_tx_file": (None, [c_void_p, c_char_p, c_int, c_int]),
    "t30_set_ecm_capability": (c_int, [c_void_p, c_int]),
    "t30_set_supported_modems": (c_int, [c_void_p, c_int]),
    "t30_set_supported_compressions": (c_int, [c_void_p, c_int]),
    "t30_set_supported_resolutions": (c_int, [c_void_p, c_int]),
    "t30_set_supported_image_sizes": (c_int, [c_void_p, c_int]),
    "t30_set_phase_b_handler": (None, [c_void_p, T30_PHASE_B_HANDLER, c_void_p]),
    "t30_set_phase_d_handler": (None, [c_void_p, T30_PHASE_D_HANDLER, c_void_p]),
    "t30_set_phase_e_handler": (None, [c_void_p, T30_PHASE_E_HANDLER, c_void_p]),
    "t30_completion_code_to_str": (c_char_p, [c_int]),
    "t30_get_logging_state": (c_void_p, [c_void_p]),
    # logging.h
    "span_log_set_level": (c_int, [c_void_p, c_int]),
    "span_log_set_message_handler": (None, [c_void_p, SPAN_MESSAGE_HANDLER]),
    # modem_connect_tones.h
    "modem_connect_tones_rx_init": (c_void_p, [c_void_p, c_int, TONE_REPORT_FUNC, c_void_p]),
    "modem_connect_tones_rx_free": (c_int, [c_void_p]),
    # const int16_t *: immutable bytes are passed without a copy.
    "modem_connect_tones_rx": (c_int, [c_void_p, c_char_p, c_int]),
    "modem_connect_tones_rx_get": (c_int, [c_void_p]),
    "modem_connect_tone_to_str": (c_char_p, [c_int]),
}


@functools.cache
def lib() -> ctypes.CDLL:
    """Load libspandsp once and declare every prototype faxcore uses."""
    names = [*LIBRARY_NAMES]
    found = ctypes.util.find_library("spandsp")
    if found:
        names.append(found)
    last: OSError | None = None
    for name in names:
        try:
            handle = ctypes.CDLL(name)
            break
        except OSError as exc:
            last = exc
    else:
        raise LibraryNotFoundError(
            f"cannot load libspandsp (install libspandsp2): {last}"
        ) from last
    for fname, (restype, argtypes) in _PROTOTYPES.items():
        try:
            func = getattr(handle, fname)
        except AttributeError as exc:
            raise LibraryNotFoundError(f"libspandsp lacks {fname}: wrong version?") from exc
        func.restype = restype
        func.argtypes = argtypes
    return handle


# Per-frame calls, declared without argtypes: ctypes then skips argument
# conversion, which measured ~40 % of the call cost.  Callers must pass exactly
# (c_void_p state, ctypes int16 array, int); only FaxChannel and FaxSession do.
_UNCHECKED = ("fax_rx", "fax_tx")


@functools.cache
def unchecked(name: str) -> Any:
    """A separate, argtypes-free function object for a hot-path call in ``_UNCHECKED``."""
    if name not in _UNCHECKED:
        raise LibraryNotFoundError(f"{name} has no unchecked variant")
    func = lib()[name]  # a fresh function object: argtypes stay unset
    func.restype = c_int
    return func


def check_pointer(function: str, pointer: int | None) -> int:
    """Return a non-NULL pointer from a ``*_init`` call or raise :class:`InitError`."""
    if not pointer:
        raise InitError(f"{function} returned NULL")
    return pointer


def check_status(function: str, code: int) -> int:
    """Raise :class:`CallError` for a negative spandsp status, else return it."""
    if code < 0:
        raise CallError(function, code)
    return code


def decode(raw: bytes | None) -> str:
    """Turn a C string from spandsp into ``str`` (``""`` for NULL)."""
    if raw is None:
        return ""
    return raw.decode("latin-1")


def encode(text: str, what: str, max_len: int) -> bytes:
    """Encode an ident/header for spandsp, refusing what it would truncate."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise CallError(f"{what}: non-ASCII text {text!r}", -1) from exc
    if len(raw) > max_len:
        raise CallError(f"{what}: {text!r} longer than {max_len} characters", -1)
    if b"\0" in raw:
        raise CallError(f"{what}: NUL in {text!r}", -1)
    return raw


__all__ = [
    "SPAN_MESSAGE_HANDLER",
    "T30_PHASE_B_HANDLER",
    "T30_PHASE_D_HANDLER",
    "T30_PHASE_E_HANDLER",
    "T38_TX_PACKET_HANDLER",
    "TONE_REPORT_FUNC",
    "T30Stats",
    "check_pointer",
    "check_status",
    "decode",
    "encode",
    "lib",
    "unchecked",
]
