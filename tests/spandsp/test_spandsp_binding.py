"""The ctypes binding against the real libspandsp: transfers, errors, lifetime."""

from __future__ import annotations

import gc
import math
import os
import struct
from pathlib import Path

import pytest

from faxcore.fax.loopback import write_synthetic_document
from faxcore.fax.options import Resolution
from faxcore.spandsp import (
    CallError,
    ClosedError,
    FaxChannel,
    InvalidPacketError,
    T30Error,
    T38Terminal,
    Tone,
    ToneDetector,
    completion_text,
    int16_buffer,
    resolution_name,
)

FRAME = 160


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def tiff(tmp_path: Path) -> Path:
    path = tmp_path / "send.tif"
    write_synthetic_document(path, 1, Resolution.FINE)
    return path


def _wire_results(channel: FaxChannel | T38Terminal, results: list[int]) -> None:
    # A lambda referenced only by the binding: proves the binding keeps it alive.
    channel.t30.set_phase_e_handler(lambda code: results.append(code))


def test_two_audio_channels_back_to_back_send_a_page(tiff: Path, tmp_path: Path) -> None:
    received = tmp_path / "recv.tif"
    results: list[int] = []
    with FaxChannel(calling_party=True) as tx, FaxChannel(calling_party=False) as rx:
        tx.t30.set_tx_file(tiff)
        rx.t30.set_rx_file(received)
        tx.t30.set_local_ident("+33 1 00 00 00 01")
        rx.t30.set_local_ident("+33 1 00 00 00 02")
        for channel in (tx, rx):
            channel.set_transmit_on_idle(True)
            _wire_results(channel, results)
        gc.collect()
        a, b = int16_buffer(FRAME), int16_buffer(FRAME)
        for step in range(60 * 50):
            assert tx.tx(a, FRAME) == FRAME
            assert rx.tx(b, FRAME) == FRAME
            tx.rx(b, FRAME)
            rx.rx(a, FRAME)
            if step % 200 == 0:
                gc.collect()
            if len(results) == 2:
                break
        assert results == [T30Error.OK, T30Error.OK]
        stats = rx.t30.statistics()
        assert stats.pages_rx == 1
        assert stats.bit_rate == 14400
        assert stats.width == 1728
        assert stats.resolution == "fine"
        assert rx.t30.remote_ident() == "+33 1 00 00 00 01"
        assert tx.t30.remote_ident() == "+33 1 00 00 00 02"
    assert received.stat().st_size > 0


def test_two_t38_terminals_back_to_back_send_a_page(tiff: Path, tmp_path: Path) -> None:
    results: list[int] = []
    to_rx: list[bytes] = []
    to_tx: list[bytes] = []
    with (
        T38Terminal(True, lambda ifp, count: to_rx.append(ifp)) as tx,
        T38Terminal(False, lambda ifp, count: to_tx.append(ifp)) as rx,
    ):
        tx.t30.set_tx_file(tiff)
        rx.t30.set_rx_file(tmp_path / "recv.tif")
        for terminal in (tx, rx):
            terminal.set_t38_version(0)
            terminal.set_fastest_image_data_rate(14400)
            _wire_results(terminal, results)
        assert tx.fastest_image_data_rate() == 14400
        seq = [0, 0]
        for _ in range(60 * 50):
            tx.send_timeout(FRAME)
            rx.send_timeout(FRAME)
            gc.collect(0)
            for packet in to_rx:
                rx.rx_packet(packet, seq[0])
                seq[0] += 1
            for packet in to_tx:
                tx.rx_packet(packet, seq[1])
                seq[1] += 1
            to_rx.clear()
            to_tx.clear()
            if len(results) == 2:
                break
        assert results == [T30Error.OK, T30Error.OK]
        assert tx.t30.statistics().pages_tx == 1


def test_malformed_ifp_packet_raises_invalid_packet_error() -> None:
    with T38Terminal(False, lambda ifp, count: None) as terminal:
        with pytest.raises(InvalidPacketError) as info:
            terminal.rx_packet(b"\xff\xff\xff\xff", 1)
        assert info.value.function == "t38_core_rx_ifp_packet"


def test_ident_longer_than_twenty_characters_is_refused() -> None:
    with FaxChannel(True) as channel, pytest.raises(CallError, match="longer than 20"):
        channel.t30.set_local_ident("x" * 21)


def test_closed_channel_refuses_every_call_and_close_is_idempotent() -> None:
    channel = FaxChannel(True)
    t30 = channel.t30
    channel.close()
    channel.close()
    assert channel.closed
    buffer = int16_buffer(FRAME)
    with pytest.raises(ClosedError):
        channel.tx(buffer, FRAME)
    with pytest.raises(ClosedError):
        channel.rx(buffer, FRAME)
    with pytest.raises(ClosedError):
        t30.statistics()


def test_more_samples_than_the_buffer_holds_are_refused() -> None:
    with FaxChannel(True) as channel, pytest.raises(ValueError, match="do not fit"):
        channel.tx(int16_buffer(80), FRAME)


def test_completion_codes_have_spandsp_texts() -> None:
    assert completion_text(T30Error.OK) == "OK"
    assert "initial communication" in completion_text(T30Error.T0_EXPIRED)
    assert resolution_name(7700) == "fine"
    assert resolution_name(15400) == "superfine"


def _tone(frequency: float, seconds: float) -> bytes:
    count = int(8000 * seconds)
    return struct.pack(
        f"<{count}h",
        *(int(8000 * math.sin(2 * math.pi * frequency * i / 8000)) for i in range(count)),
    )


def test_tone_detector_hears_the_cng_of_a_calling_fax() -> None:
    with FaxChannel(calling_party=True) as caller, ToneDetector(Tone.FAX_CNG) as detector:
        caller.set_transmit_on_idle(True)
        buffer = int16_buffer(FRAME)
        heard = False
        for _ in range(4 * 50):
            caller.tx(buffer, FRAME)
            if detector.rx(bytes(buffer)):
                heard = True
                break
        assert heard
        assert detector.detected[0] is Tone.FAX_CNG


def test_tone_detector_ignores_silence_and_speech_band_tones() -> None:
    with ToneDetector(Tone.FAX_CNG) as detector:
        assert not detector.rx(bytes(8000 * 2 * 4))
        assert not detector.rx(_tone(440.0, 4.0))
        assert detector.detected == []


def _churn(count: int, close: bool) -> None:
    for index in range(count):
        channel = FaxChannel(index % 2 == 0)
        channel.t30.set_phase_e_handler(lambda code: None)
        terminal = T38Terminal(index % 2 == 1, lambda ifp, n: None)
        terminal.t30.set_phase_b_handler(lambda code: None)
        if close:
            channel.close()
            terminal.close()
        del channel, terminal


@pytest.mark.parametrize("close", [True, False], ids=["closed", "finalized"])
def test_a_thousand_sessions_leave_no_rss_growth(close: bool) -> None:
    _churn(100, close)  # warm the allocator up
    gc.collect()
    before = _rss_bytes()
    _churn(1000, close)
    gc.collect()
    grown = _rss_bytes() - before
    # A fax_state_t alone is tens of kB: a leak of 1000 would be tens of MB.
    assert grown < 4 * 1024 * 1024, f"RSS grew by {grown} bytes"


def test_exception_in_a_phase_handler_surfaces_after_the_c_call() -> None:
    def refuse(code: int) -> None:
        raise RuntimeError(f"handler saw {code}")

    with FaxChannel(True) as channel:
        channel.t30.set_phase_e_handler(refuse)
        with pytest.raises(RuntimeError, match=f"handler saw {int(T30Error.CALLDROPPED)}"):
            channel.t30.terminate()
        channel.tx(int16_buffer(FRAME), FRAME)  # raised once, not again


def test_exception_in_the_t38_packet_handler_surfaces_from_the_clock_call() -> None:
    def refuse(ifp: bytes, count: int) -> None:
        raise RuntimeError("transport down")

    with T38Terminal(True, refuse) as terminal:
        terminal.t30.set_tx_file("/nonexistent.tif")
        with pytest.raises(RuntimeError, match="transport down"):
            for _ in range(50 * 10):
                terminal.send_timeout(FRAME)
