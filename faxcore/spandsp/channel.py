"""Object layer: fax endpoints that own their spandsp C objects.

* :class:`FaxChannel` — a T.30 fax terminal over 8 kHz 16-bit audio (``fax_*``).
* :class:`T38Terminal` — the same terminal speaking T.38 IFP packets.
* :class:`ToneDetector` — CNG/CED detection on audio (auto fax detection).

Each frees its C object in :meth:`close` / ``with`` and, as a safety net,
when garbage collected.  Audio methods take caller-owned ctypes buffers so
the per-frame path allocates nothing; :mod:`faxcore.fax` builds the
bytes-level API on top.
"""

from __future__ import annotations

import array
import ctypes
import enum
from collections.abc import Callable
from types import TracebackType
from typing import Self

from faxcore.spandsp import _lib
from faxcore.spandsp._owned import Handle
from faxcore.spandsp.errors import CallError, InvalidPacketError
from faxcore.spandsp.t30 import T30

SAMPLE_RATE = 8000
_FRAME = 160  # 20 ms, the usual packetisation; buffers grow if frames are larger
Int16Buffer = ctypes.Array[ctypes.c_int16]
AudioBuffer = bytes | bytearray | memoryview | array.array


def int16_buffer(samples: int) -> Int16Buffer:
    """A zeroed ctypes ``int16_t[samples]`` to reuse across calls."""
    if samples <= 0:
        raise ValueError(f"buffer size must be positive, got {samples}")
    return (ctypes.c_int16 * samples)()


class _Owner:
    """Shared ``close``/``with`` behaviour of the object layer."""

    _handle: Handle

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._handle.closed

    def close(self) -> None:
        """Free the C object now; later calls raise ``ClosedError``."""
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FaxChannel(_Owner):
    """``fax_state_t``: T.30 over audio, fed and drained 8 kHz int16 samples."""

    def __init__(self, calling_party: bool) -> None:
        lib = _lib.lib()
        ptr = _lib.check_pointer("fax_init", lib.fax_init(None, int(calling_party)))
        self._handle = Handle("fax channel", ptr, lib.fax_free)
        self.calling_party = calling_party
        self.t30 = T30(self._handle, lib.fax_get_t30_state(ptr))
        # Hot path: argtypes-free functions and the pointer as a ready c_void_p.
        self._fax_rx = _lib.unchecked("fax_rx")
        self._fax_tx = _lib.unchecked("fax_tx")
        self._state = ctypes.c_void_p(ptr)
        self._rx_buf = int16_buffer(_FRAME)
        self._rx_view = memoryview(self._rx_buf).cast("B")
        self._rx_size = _FRAME * 2
        self._tx_buf = int16_buffer(_FRAME)
        self._tx_view = memoryview(self._tx_buf).cast("B")
        self._tx_samples = _FRAME
        self._fax_rx_fillin = lib.fax_rx_fillin
        self._lib = lib

    def rx(self, buffer: Int16Buffer, samples: int) -> None:
        """Feed ``samples`` received samples from ``buffer`` (spandsp may alter it)."""
        if not isinstance(buffer, ctypes.Array) or buffer._type_ is not ctypes.c_int16:
            raise TypeError("buffer must be a ctypes c_int16 array (see int16_buffer)")
        if samples > len(buffer) or samples < 0:
            raise ValueError(f"{samples} samples do not fit a {len(buffer)}-sample buffer")
        self._handle.get()
        rc = self._fax_rx(self._state, buffer, samples)
        if self._handle.pending is not None:
            self._handle.raise_pending()
        if rc < 0:
            raise CallError("fax_rx", rc)

    def rx_audio(self, samples: AudioBuffer) -> None:
        """Feed received little-endian int16 audio (bytes, bytearray, array('h') ...).

        The samples are copied into a reused internal buffer first, since
        ``fax_rx`` modifies its input in place.
        """
        view = samples if type(samples) is bytes else memoryview(samples).cast("B")
        nbytes = len(view)
        if nbytes & 1:
            raise ValueError("audio must be whole 16-bit samples")
        if nbytes > self._rx_size:
            self._rx_buf = int16_buffer(nbytes >> 1)
            self._rx_view = memoryview(self._rx_buf).cast("B")
            self._rx_size = nbytes
        self._rx_view[:nbytes] = view
        if not self._handle.ptr:
            self._handle.get()
        rc = self._fax_rx(self._state, self._rx_buf, nbytes >> 1)
        if self._handle.pending is not None:
            self._handle.raise_pending()
        if rc < 0:
            raise CallError("fax_rx", rc)

    def tx_audio(self, samples: int) -> bytes:
        """Up to ``samples`` samples to send, as little-endian int16 bytes."""
        if samples > self._tx_samples:
            if samples <= 0:
                raise ValueError(f"sample count must be positive, got {samples}")
            self._tx_buf = int16_buffer(samples)
            self._tx_view = memoryview(self._tx_buf).cast("B")
            self._tx_samples = samples
        if not self._handle.ptr:
            self._handle.get()
        got: int = self._fax_tx(self._state, self._tx_buf, samples)
        if self._handle.pending is not None:
            self._handle.raise_pending()
        if got < 0:
            raise CallError("fax_tx", got)
        return bytes(self._tx_view[: got * 2])

    def rx_fillin(self, samples: int) -> None:
        """Tell the modems ``samples`` of audio were lost (keeps their timing)."""
        rc = self._fax_rx_fillin(self._handle.get(), samples)
        self._handle.raise_pending()
        if rc < 0:
            raise CallError("fax_rx_fillin", rc)

    def tx(self, buffer: Int16Buffer, samples: int) -> int:
        """Fill ``buffer`` with up to ``samples`` samples to send; returns how many."""
        if not isinstance(buffer, ctypes.Array) or buffer._type_ is not ctypes.c_int16:
            raise TypeError("buffer must be a ctypes c_int16 array (see int16_buffer)")
        if samples > len(buffer) or samples < 0:
            raise ValueError(f"{samples} samples do not fit a {len(buffer)}-sample buffer")
        self._handle.get()
        rc: int = self._fax_tx(self._state, buffer, samples)
        if self._handle.pending is not None:
            self._handle.raise_pending()
        if rc < 0:
            raise CallError("fax_tx", rc)
        return rc

    def set_transmit_on_idle(self, enabled: bool) -> None:
        """Pad :meth:`tx` with silence so it always returns full frames."""
        self._lib.fax_set_transmit_on_idle(self._handle.get(), int(enabled))

    def set_tep_mode(self, enabled: bool) -> None:
        """Send a talker echo protection tone before training."""
        self._lib.fax_set_tep_mode(self._handle.get(), int(enabled))


class T38Terminal(_Owner):
    """``t38_terminal_state_t``: T.30 over T.38 IFP packets.

    ``on_packet(ifp, count)`` receives each IFP packet spandsp wants sent,
    ``count`` being how many copies the transport should send (redundancy of
    indicator packets).  Time only advances through :meth:`send_timeout`.
    """

    def __init__(self, calling_party: bool, on_packet: Callable[[bytes, int], None]) -> None:
        lib = _lib.lib()
        string_at = ctypes.string_at

        handle: Handle | None = None

        def _tx(_core: int | None, _user: int | None, buf: int, length: int, count: int) -> int:
            try:
                on_packet(string_at(buf, length), count)
            except BaseException as exc:  # re-raised after the C call returns
                if handle is not None:
                    handle.store(exc)
                return -1
            return 0

        callback = _lib.T38_TX_PACKET_HANDLER(_tx)
        ptr = _lib.check_pointer(
            "t38_terminal_init", lib.t38_terminal_init(None, int(calling_party), callback, None)
        )
        handle = self._handle = Handle("T.38 terminal", ptr, lib.t38_terminal_free)
        self._handle.callbacks.append(callback)
        self.calling_party = calling_party
        self.t30 = T30(self._handle, lib.t38_terminal_get_t30_state(ptr))
        self._core = _lib.check_pointer(
            "t38_terminal_get_t38_core_state", lib.t38_terminal_get_t38_core_state(ptr)
        )
        self._rx_ifp = lib.t38_core_rx_ifp_packet
        self._send_timeout = lib.t38_terminal_send_timeout
        self._lib = lib

    def rx_packet(self, ifp: bytes, seq_no: int) -> None:
        """Process one received IFP packet with its UDPTL/RTP sequence number."""
        self._handle.get()
        rc = self._rx_ifp(self._core, ifp, len(ifp), seq_no & 0xFFFF)
        self._handle.raise_pending()
        if rc < 0:
            raise InvalidPacketError("t38_core_rx_ifp_packet", rc)

    def send_timeout(self, samples: int) -> bool:
        """Advance the terminal's clock by ``samples`` (8 kHz); True once the call is over."""
        finished = bool(self._send_timeout(self._handle.get(), samples))
        self._handle.raise_pending()
        return finished

    def set_t38_version(self, version: int) -> None:
        """T.38 version 0..3 agreed in SDP."""
        if not 0 <= version <= 3:
            raise ValueError(f"T.38 version must be 0..3, got {version}")
        self._handle.get()
        self._lib.t38_set_t38_version(self._core, version)

    def set_fastest_image_data_rate(self, bit_rate: int) -> None:
        """``T38FaxMaxRate`` from SDP: caps the modem speed."""
        self._handle.get()
        self._lib.t38_set_fastest_image_data_rate(self._core, bit_rate)

    def fastest_image_data_rate(self) -> int:
        """The current cap in bit/s."""
        self._handle.get()
        rate: int = self._lib.t38_get_fastest_image_data_rate(self._core)
        return rate

    def set_config(self, options: int) -> None:
        """``T38_TERMINAL_OPTION_*`` bits (pacing, indicators)."""
        self._lib.t38_terminal_set_config(self._handle.get(), options)

    def set_tep_mode(self, enabled: bool) -> None:
        """Allow for TEP time in the T.38 timing."""
        self._lib.t38_terminal_set_tep_mode(self._handle.get(), int(enabled))


class Tone(enum.IntEnum):
    """``MODEM_CONNECT_TONES_*`` codes reported by :class:`ToneDetector`."""

    NONE = 0
    FAX_CNG = 1
    ANS = 2
    ANS_PR = 3
    ANSAM = 4
    ANSAM_PR = 5
    FAX_PREAMBLE = 6
    FAX_CED_OR_PREAMBLE = 7
    BELL_ANS = 8
    CALLING_TONE = 9


class ToneDetector(_Owner):
    """``modem_connect_tones_rx``: spots CNG (calling fax) or CED in audio."""

    def __init__(self, tone: Tone = Tone.FAX_CNG) -> None:
        lib = _lib.lib()
        self.detected: list[Tone] = []
        detected = self.detected

        def _report(_user: int | None, code: int, _level: int, _delay: int) -> None:
            if code != Tone.NONE:
                detected.append(Tone(code) if code in Tone._value2member_map_ else Tone.NONE)

        callback = _lib.TONE_REPORT_FUNC(_report)
        ptr = _lib.check_pointer(
            "modem_connect_tones_rx_init",
            lib.modem_connect_tones_rx_init(None, int(tone), callback, None),
        )
        self._handle = Handle("tone detector", ptr, lib.modem_connect_tones_rx_free)
        self._handle.callbacks.append(callback)
        self.tone = tone
        self._rx = lib.modem_connect_tones_rx

    def rx(self, samples: bytes) -> bool:
        """Feed little-endian int16 audio; True once the tone has been heard."""
        if len(samples) % 2:
            raise ValueError("audio must be whole 16-bit samples")
        rc = self._rx(self._handle.get(), samples, len(samples) // 2)
        if rc < 0:
            raise CallError("modem_connect_tones_rx", rc)
        return bool(self.detected)
