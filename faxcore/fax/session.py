"""FaxSession: one fax call as a sans-I/O state machine over spandsp.

Like aioquic's ``QuicConnection``, the session never reads a clock or a
socket.  Adapters feed it what arrived with the current time and drain what
to send:

* audio: ``receive_audio(samples, now)`` / ``audio_to_send(n)`` /
  ``lost_audio(n, now)`` (8 kHz signed 16-bit little-endian), plus
  ``get_timer()`` + ``handle_timer(now)`` for when frames stop arriving;
* T.38: ``receive_packet(ifp, seq, now)`` / ``packets_to_send()`` /
  ``get_timer()`` + ``handle_timer(now)`` (the T.38 clock only moves there).

``next_event()`` hands out :mod:`faxcore.fax.events` in order; the last one is
always :class:`~faxcore.fax.events.FaxCompleted`.

A receiving session bounds the page in progress: spandsp 0.0.6 decodes every
received row into one buffer that only grows until the page ends (and then
writes the page to the TIFF in one piece), whatever length the sender
announced.  After every call into spandsp the session reads the row count and
ends the call once it passes ``max_page_length_mm`` at the page's resolution
(:class:`~faxcore.fax.events.PageRefused`); a page that ended within that same
call is caught in phase D and not counted.  Without ECM rows arrive a frame at
a time, so the page is stopped within a few rows of the limit.  With ECM
spandsp decodes a whole partial page (at most 256 frames of 256 bytes) in one
call, so the page can overshoot the limit by what one such block decodes to:
up to 524,288 T.6 rows of 216 bytes, 113 MB, freed as the call ends.
"""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Self

from faxcore.fax.errors import FaxFileError, FaxStateError
from faxcore.fax.events import (
    FaxCompleted,
    FaxEvent,
    Negotiated,
    PageRefused,
    PageTransferred,
    RemoteIdentified,
)
from faxcore.fax.options import Direction, FaxSessionOptions, SessionWire
from faxcore.spandsp import (
    SAMPLE_RATE,
    T30,
    Compressions,
    FaxChannel,
    ImageSizes,
    InvalidPacketError,
    T30Error,
    T38Terminal,
    completion_text,
    resolution_name,
)
from faxcore.spandsp.channel import AudioBuffer

# T.38 terminals are clocked in 20 ms ticks, the usual packetisation time.
T38_TICK = 0.02
# Audio is clocked by the frames themselves; this long without any counts as loss.
AUDIO_GAP = 0.2
_FILLIN_CHUNK = 160
_IMAGE_SIZES = (
    ImageSizes.WIDTH_215MM
    | ImageSizes.UNLIMITED_LENGTH
    | ImageSizes.A4_LENGTH
    | ImageSizes.B4_LENGTH
    | ImageSizes.US_LETTER_LENGTH
    | ImageSizes.US_LEGAL_LENGTH
)
# spandsp 0.0.6 sends T.4 1-D/2-D and, with ECM, T.6.
_COMPRESSIONS = Compressions.T4_1D | Compressions.T4_2D | Compressions.T6
# Vertical resolution assumed while spandsp reports none (no page yet): the finest.
_FINEST_Y_PIXELS_PER_METRE = 15400
# T.30 log lines kept for a failed call's report: a page costs about a dozen,
# so this holds the last few pages' exchanges and how the call ended.
TRACE_LINES = 120
# Not kept: the raw bytes spandsp dumps after each frame's name, its bit-by-bit
# decoding of DIS/DTC/DCS (60 lines a frame; the frame's name and the choices
# it leads to stay), and the lines logged for each of an ECM block's (up to
# 256) image frames: they would push the protocol exchanges out of the trace.
_TRACE_NOISE = re.compile(
    r"[RT]x: [0-9a-f]{2}( [0-9a-f]{2})*$|[RT]x: FCD |Storing ECM frame|Stop none "
    r"|[.01]{4} [.01]{4}= ")


class FaxSession:
    """One fax call, either direction, over audio or T.38 (see module doc)."""

    def __init__(self, options: FaxSessionOptions, now: float) -> None:
        self.options = options
        self._start = now
        self._deadline = now + options.max_duration
        self._now = now
        self._events: deque[FaxEvent] = deque()
        self._completed: FaxCompleted | None = None
        self._remote_ident = ""
        self._negotiated: Negotiated | None = None
        self._pages = 0
        self._receiving = options.direction is Direction.RECEIVE
        self._refused: PageRefused | None = None
        self._packets: list[bytes] = []
        self._fraction = 0.0
        self._last_timer = now
        self.invalid_packets = 0
        self._trace: deque[str] = deque(maxlen=TRACE_LINES)
        if options.direction is Direction.SEND:
            _check_readable(options.file)
        else:
            _check_writable(options.file)
        self._channel: FaxChannel | None = None
        self._terminal: T38Terminal | None = None
        t30: T30
        if options.wire is SessionWire.AUDIO:
            self._channel = FaxChannel(options.calling_party)
            self._channel.set_transmit_on_idle(True)
            self._channel.set_tep_mode(options.tep)
            t30 = self._channel.t30
        else:
            self._terminal = T38Terminal(options.calling_party, self._on_packet)
            self._terminal.set_t38_version(options.t38_version)
            self._terminal.set_fastest_image_data_rate(options.max_bit_rate)
            self._terminal.set_tep_mode(options.tep)
            t30 = self._terminal.t30
        self._t30 = t30
        if options.local_ident:
            t30.set_local_ident(options.local_ident)
        if options.header_info:
            t30.set_header_info(options.header_info)
        t30.set_ecm(options.ecm)
        t30.set_supported_modems(options.modems)
        t30.set_supported_resolutions(options.resolution_flags)
        t30.set_supported_image_sizes(_IMAGE_SIZES)
        t30.set_supported_compressions(
            _COMPRESSIONS if options.ecm else Compressions.T4_1D | Compressions.T4_2D
        )
        if options.direction is Direction.SEND:
            t30.set_tx_file(options.file)
        else:
            t30.set_rx_file(options.file)
        t30.set_phase_b_handler(self._on_phase_b)
        t30.set_phase_d_handler(self._on_phase_d)
        t30.set_phase_e_handler(self._on_phase_e)
        t30.trace(self._on_trace)

    # ------------------------------------------------------------------ state
    @property
    def done(self) -> bool:
        """True once phase E has run (the FaxCompleted event is queued)."""
        return self._completed is not None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` freed the spandsp objects (no audio is taken any more)."""
        owner = self._channel if self._channel is not None else self._terminal
        return owner is None or owner.closed

    @property
    def result(self) -> FaxCompleted | None:
        """The final result, once :attr:`done`."""
        return self._completed

    def next_event(self) -> FaxEvent | None:
        """The oldest event not yet handed out, or None."""
        if self._events:
            return self._events.popleft()
        return None

    def hangup(self, now: float) -> None:
        """The call was cut: end the T.30 session now (phase E reports the status)."""
        self._now = now
        if self._completed is None and not self.closed:
            self._t30.terminate()
        self._ensure_completed(T30Error.CALLDROPPED)

    def close(self) -> None:
        """Free the spandsp objects; the events already queued stay readable."""
        if self._channel is not None:
            self._channel.close()
        if self._terminal is not None:
            self._terminal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ audio
    def receive_audio(self, samples: AudioBuffer, now: float) -> None:
        """Feed received 8 kHz int16 little-endian audio (bytes, array('h'), ...)."""
        self._now = now
        if self._channel is None:
            raise FaxStateError("receive_audio on a T.38 session")
        try:
            self._channel.rx_audio(samples)
        except ValueError as exc:
            raise FaxStateError(str(exc)) from exc
        self._last_timer = now
        self._bound_page()
        if now > self._deadline:
            self._expire()

    def audio_to_send(self, n_samples: int) -> bytes:
        """The next ``n_samples`` samples to play to the far end (silence padded)."""
        if self._channel is None:
            raise FaxStateError("audio_to_send on a T.38 session")
        return self._channel.tx_audio(n_samples)

    def lost_audio(self, n_samples: int, now: float) -> None:
        """``n_samples`` of received audio were lost: let the modems fill in."""
        self._now = now
        if self._channel is None:
            raise FaxStateError("lost_audio on a T.38 session")
        self._channel.rx_fillin(n_samples)
        self._last_timer = now
        self._bound_page()
        if now > self._deadline:
            self._expire()

    # ------------------------------------------------------------------ T.38
    def receive_packet(self, ifp: bytes, seq: int, now: float) -> None:
        """Feed one received IFP packet (its UDPTL sequence number ``seq``).

        A malformed packet is counted in :attr:`invalid_packets` and dropped:
        one bad datagram must not end the call.
        """
        self._now = now
        if self._terminal is None:
            raise FaxStateError("receive_packet on an audio session")
        try:
            self._terminal.rx_packet(bytes(ifp), seq)
        except InvalidPacketError:
            self.invalid_packets += 1
        self._bound_page()

    def packets_to_send(self) -> list[bytes]:
        """IFP packets produced since the last call, in order."""
        packets, self._packets = self._packets, []
        return packets

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` is next due (None once done).

        T.38: every 20 ms tick.  Audio: when no audio has arrived for
        ``AUDIO_GAP`` seconds (the far end stopped sending media).
        """
        if self.done:
            return None
        if self._terminal is not None:
            return self._last_timer + T38_TICK
        return self._last_timer + AUDIO_GAP

    def handle_timer(self, now: float) -> None:
        """Advance the clocks to ``now`` and enforce ``max_duration``.

        T.38: the terminal's clock moves by the elapsed samples.  Audio: a gap
        of at least ``AUDIO_GAP`` without frames counts as lost audio, so the
        T.30 timers still run out when the media stream dies.
        """
        self._now = now
        if not self.done:
            elapsed = (now - self._last_timer) * SAMPLE_RATE + self._fraction
            if self._terminal is not None:
                samples = int(elapsed)
                self._fraction = elapsed - samples
                self._last_timer = now
                if samples > 0:
                    self._terminal.send_timeout(samples)
            elif self._channel is not None and now >= self._last_timer + AUDIO_GAP:
                samples = int(elapsed)
                self._fraction = elapsed - samples
                self._last_timer = now
                while samples > 0 and not self.done:
                    self._channel.rx_fillin(min(samples, _FILLIN_CHUNK))
                    samples -= _FILLIN_CHUNK
            self._bound_page()
        if not self.done and now > self._deadline:
            self._expire()

    def _on_packet(self, ifp: bytes, _count: int) -> None:
        self._packets.append(ifp)

    # ------------------------------------------------------------ page length
    def _max_rows(self, y_pixels_per_metre: int) -> int:
        ppm = y_pixels_per_metre or _FINEST_Y_PIXELS_PER_METRE
        return int(self.options.max_page_length_mm * ppm / 1000)

    def _refuse(self, page_no: int, rows: int, y_pixels_per_metre: int) -> None:
        self._refused = PageRefused(
            page_no=page_no,
            rows=rows,
            max_rows=self._max_rows(y_pixels_per_metre),
            resolution=resolution_name(y_pixels_per_metre),
        )
        self._events.append(self._refused)

    def _bound_page(self) -> None:
        """Receiving: end the call once the page in progress is too long (see module doc)."""
        if not self._receiving or self._completed is not None or self.closed:
            return
        if self._refused is None:
            rows, y_ppm = self._t30.page_rows()
            if rows <= self._max_rows(y_ppm):
                return
            self._refuse(self._pages + 1, rows, y_ppm)
        self._t30.terminate()
        self._ensure_completed(T30Error.CALLDROPPED)

    # ------------------------------------------------------------- T.30 events
    def _expire(self) -> None:
        if self._completed is None:
            self._t30.terminate()
            self._ensure_completed(T30Error.CALLDROPPED)

    def _ensure_completed(self, code: int) -> None:
        """Synthesize phase E if spandsp did not run it (e.g. terminated before start)."""
        if self._completed is None:
            self._on_phase_e(code)

    def _report_ident(self) -> None:
        if not self._remote_ident:
            ident = self._t30.remote_ident()
            if ident:
                self._remote_ident = ident
                self._events.append(RemoteIdentified(ident))

    def _report_negotiated(self) -> None:
        st = self._t30.statistics()
        negotiated = Negotiated(
            bit_rate=st.bit_rate, ecm=st.ecm, resolution=st.resolution, compression=st.compression
        )
        if negotiated != self._negotiated:
            self._negotiated = negotiated
            self._events.append(negotiated)

    def _on_phase_b(self, _result: int) -> None:
        # Only the ident is reliable here: spandsp fills the resolution and
        # coding of the statistics once a page is under way, so Negotiated
        # is reported with the first page in phase D.
        self._report_ident()

    def _on_phase_d(self, _result: int) -> None:
        self._report_ident()
        st = self._t30.statistics()
        pages = st.pages_tx if self.options.direction is Direction.SEND else st.pages_rx
        if pages > self._pages:
            if self._receiving and st.length > self._max_rows(st.y_resolution):
                # Not terminated from inside spandsp's callback: _bound_page
                # does it as soon as the C call returns.
                self._refuse(pages, st.length, st.y_resolution)
                return
            self._report_negotiated()
            self._pages = pages
            self._events.append(
                PageTransferred(
                    page_no=pages,
                    bit_rate=st.bit_rate,
                    ecm=st.ecm,
                    resolution=st.resolution,
                    width=st.width,
                    length=st.length,
                    bad_rows=st.bad_rows,
                )
            )

    def _on_trace(self, line: str) -> None:
        if not _TRACE_NOISE.match(line):
            self._trace.append(f"{self._now - self._start:8.3f} {line}")

    def _on_phase_e(self, code: int) -> None:
        if self._completed is not None:
            return
        self._report_ident()
        st = self._t30.statistics() if not self.closed else None
        if st is not None and self._refused is None:
            pages = st.pages_tx if self.options.direction is Direction.SEND else st.pages_rx
            self._pages = max(self._pages, pages)
        if self._refused is not None:
            code = int(T30Error.CALLDROPPED)  # we ended it, whatever state T.30 was in
        text = completion_text(code)
        if self._refused is not None:
            text = (
                f"page {self._refused.page_no} refused: longer than "
                f"{self.options.max_page_length_mm:g} mm ({self._refused.max_rows} rows "
                f"at {self._refused.resolution})"
            )
        success = code == T30Error.OK and self._refused is None
        self._completed = FaxCompleted(
            success=success,
            t30_code=code,
            t30_text=text,
            pages=self._pages,
            bit_rate=st.bit_rate if st is not None and self._pages else 0,
            ecm=bool(st.ecm) if st is not None and self._pages else False,
            remote_ident=self._remote_ident,
            duration=self._now - self._start,
            trace=() if success else tuple(self._trace),
        )
        self._events.append(self._completed)


def _check_readable(path: Path) -> None:
    if not os.access(path, os.R_OK) or not Path(path).is_file():
        raise FaxFileError(f"cannot read TIFF to send: {path}")


def _check_writable(path: Path) -> None:
    parent = Path(path).parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise FaxFileError(f"cannot write received TIFF into {parent}")
