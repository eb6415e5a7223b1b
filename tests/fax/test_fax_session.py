"""FaxSession back to back in one process: real spandsp modems and T.38, simulated time."""

from __future__ import annotations

import array
import ctypes
import gc
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from faxcore.fax import (
    AUDIO_GAP,
    T38_TICK,
    Direction,
    FaxCompleted,
    FaxEvent,
    FaxFileError,
    FaxOptionsError,
    FaxSession,
    FaxSessionOptions,
    FaxStateError,
    Negotiated,
    PageRefused,
    PageTransferred,
    RemoteIdentified,
    Resolution,
    SessionWire,
)
from faxcore.fax.loopback import transfer, write_synthetic_document
from faxcore.spandsp import T30Error

SENDER_ID = "+33 1 23 45 67 89"
RECEIVER_ID = "+33 9 87 65 43 21"


def _pair(
    tmp_path: Path,
    transport: SessionWire,
    pages: int = 1,
    resolution: Resolution = Resolution.FINE,
    **options: object,
) -> tuple[FaxSession, FaxSession, list[Image.Image]]:
    source = tmp_path / "send.tif"
    images = write_synthetic_document(source, pages, resolution)
    sender = FaxSession(
        FaxSessionOptions(
            Direction.SEND, transport, source, local_ident=SENDER_ID, **options  # type: ignore[arg-type]
        ),
        now=0.0,
    )
    receiver = FaxSession(
        FaxSessionOptions(
            Direction.RECEIVE,
            transport,
            tmp_path / "recv.tif",
            local_ident=RECEIVER_ID,
            **options,  # type: ignore[arg-type]
        ),
        now=0.0,
    )
    return sender, receiver, images


def _events(session: FaxSession) -> list[FaxEvent]:
    events = []
    while (event := session.next_event()) is not None:
        events.append(event)
    return events


def _received_pages(path: Path) -> list[Image.Image]:
    pages = []
    with Image.open(path) as tiff:
        for index in range(tiff.n_frames):
            tiff.seek(index)
            pages.append(tiff.convert("1"))
    return pages


def _assert_pixel_equal(received: list[Image.Image], sent: list[Image.Image]) -> None:
    assert len(received) == len(sent)
    for number, (got, want) in enumerate(zip(received, sent, strict=True), start=1):
        assert got.size == want.size, f"page {number}"
        assert ImageChops.difference(got, want.convert("1")).getbbox() is None, f"page {number}"


@pytest.mark.parametrize("pages", [1, 10])
@pytest.mark.parametrize("resolution", list(Resolution), ids=lambda r: r.value)
@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
@pytest.mark.parametrize("transport", list(SessionWire), ids=lambda t: t.value)
def test_back_to_back_fax_delivers_pixel_equal_pages(
    tmp_path: Path, transport: SessionWire, ecm: bool, resolution: Resolution, pages: int
) -> None:
    sender, receiver, images = _pair(tmp_path, transport, pages, resolution, ecm=ecm)
    with sender, receiver:
        end = transfer(sender, receiver)
    assert sender.result is not None and receiver.result is not None
    for result in (sender.result, receiver.result):
        assert result.success, result.t30_text
        assert result.t30_code == T30Error.OK
        assert result.pages == pages
        assert result.ecm is ecm
        assert result.bit_rate == 14400
        assert result.trace == ()  # kept for failures only
    assert sender.result.remote_ident == RECEIVER_ID
    assert receiver.result.remote_ident == SENDER_ID
    assert 10 < end < 20 + 30 * pages
    _assert_pixel_equal(_received_pages(tmp_path / "recv.tif"), images)
    received_events = _events(receiver)
    pages_seen = [e for e in received_events if isinstance(e, PageTransferred)]
    assert [p.page_no for p in pages_seen] == list(range(1, pages + 1))
    assert {p.resolution for p in pages_seen} == {resolution.value}


@pytest.mark.parametrize("transport", list(SessionWire), ids=lambda t: t.value)
def test_events_come_in_protocol_order_and_end_with_completion(
    tmp_path: Path, transport: SessionWire
) -> None:
    sender, receiver, _ = _pair(tmp_path, transport, pages=2)
    with sender, receiver:
        transfer(sender, receiver)
    for session, remote in ((sender, RECEIVER_ID), (receiver, SENDER_ID)):
        events = _events(session)
        assert events[0] == RemoteIdentified(remote)
        assert isinstance(events[1], Negotiated)
        assert events[1].bit_rate == 14400 and events[1].ecm and events[1].resolution == "fine"
        assert [type(e) for e in events[2:]] == [PageTransferred, PageTransferred, FaxCompleted]
        assert events[-1] == session.result
        assert session.next_event() is None


def test_audio_with_one_frame_in_a_thousand_lost_still_completes(tmp_path: Path) -> None:
    sender, receiver, images = _pair(tmp_path, SessionWire.AUDIO, pages=2)
    pattern = [True] + [False] * 999
    with sender, receiver:
        end = transfer(sender, receiver, loss_pattern=pattern)
    assert end / 0.02 > 1000  # frames were really dropped, in both directions
    assert sender.result is not None and sender.result.success, sender.result
    assert receiver.result is not None and receiver.result.success, receiver.result
    _assert_pixel_equal(_received_pages(tmp_path / "recv.tif"), images)


def test_t38_with_lost_packets_and_ecm_still_completes(tmp_path: Path) -> None:
    sender, receiver, images = _pair(tmp_path, SessionWire.T38, pages=2)
    pattern = [False] * 149 + [True]
    with sender, receiver:
        transfer(sender, receiver, loss_pattern=pattern)
    assert sender.result is not None and sender.result.success, sender.result
    _assert_pixel_equal(_received_pages(tmp_path / "recv.tif"), images)


@pytest.mark.parametrize("transport", list(SessionWire), ids=lambda t: t.value)
def test_far_end_that_never_answers_ends_with_t0_timeout(
    tmp_path: Path, transport: SessionWire
) -> None:
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1)
    silence = bytes(320)
    with FaxSession(FaxSessionOptions(Direction.SEND, transport, source), now=0.0) as sender:
        now = 0.0
        while not sender.done and now < 120.0:
            now += 0.02
            if transport is SessionWire.AUDIO:
                sender.audio_to_send(160)
                sender.receive_audio(silence, now)
            else:
                sender.handle_timer(now)
                sender.packets_to_send()
        result = sender.result
    assert result is not None
    assert not result.success
    assert result.t30_code == T30Error.T0_EXPIRED
    assert "initial communication" in result.t30_text
    assert 55.0 <= result.duration <= 65.0
    assert result.pages == 0


def test_audio_session_without_any_media_times_out_through_its_timer(tmp_path: Path) -> None:
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1)
    options = FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, source)
    with FaxSession(options, now=0.0) as sender:
        timers = 0
        while (due := sender.get_timer()) is not None and timers < 2000:
            assert due == pytest.approx(timers * AUDIO_GAP + AUDIO_GAP)
            sender.handle_timer(due)
            timers += 1
        result = sender.result
    assert result is not None and result.t30_code == T30Error.T0_EXPIRED
    assert 55.0 <= result.duration <= 65.0
    assert timers < 400  # one wake-up per gap, not per frame


def test_max_duration_ends_a_call_that_would_run_longer(tmp_path: Path) -> None:
    sender, receiver, _ = _pair(tmp_path, SessionWire.AUDIO, pages=3, max_duration=15.0)
    with sender, receiver:
        transfer(sender, receiver)
    assert sender.result is not None and receiver.result is not None
    assert not sender.result.success and not receiver.result.success
    assert sender.result.duration < 16.0


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
def test_a_failed_fax_carries_its_last_t30_exchanges_in_time_order(
    tmp_path: Path, ecm: bool
) -> None:
    sender, receiver, _ = _pair(tmp_path, SessionWire.AUDIO, pages=3, max_duration=20.0, ecm=ecm)
    with sender, receiver:
        transfer(sender, receiver)
    assert receiver.result is not None and not receiver.result.success
    trace = receiver.result.trace
    assert 10 <= len(trace) <= 120
    times = [float(line.split()[0]) for line in trace]
    assert times == sorted(times) and times[-1] <= 20.1
    text = "\n".join(trace)
    # The negotiation is there, then how the call ended; not the image data.
    assert "Rx: DCS" in text and "Tx: CFR" in text
    assert trace[-1].endswith("Status changing to 'The call dropped prematurely'")
    assert "Storing ECM frame" not in text and "Rx: FCD" not in text
    assert "= Error correction mode (ECM)" not in text  # DIS/DCS decoded bit by bit
    assert not any(line.split(maxsplit=1)[1].startswith(("Rx: ff", "Tx: ff")) for line in trace)


def test_hangup_ends_the_session_with_a_failure(tmp_path: Path) -> None:
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1)
    with FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.T38, source), now=5.0) as sender:
        sender.handle_timer(6.0)
        sender.hangup(7.0)
        assert sender.done
        assert sender.get_timer() is None
        events = _events(sender)
    assert isinstance(events[-1], FaxCompleted)
    assert not events[-1].success
    assert events[-1].duration == pytest.approx(2.0)


def test_receiver_limited_to_standard_refuses_a_fine_document(tmp_path: Path) -> None:
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1, Resolution.FINE)
    sender = FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, source), now=0.0)
    receiver = FaxSession(
        FaxSessionOptions(
            Direction.RECEIVE,
            SessionWire.AUDIO,
            tmp_path / "recv.tif",
            resolutions=frozenset({Resolution.STANDARD}),
        ),
        now=0.0,
    )
    with sender, receiver:
        transfer(sender, receiver)
    assert sender.result is not None
    assert sender.result.t30_code == T30Error.NORESSUPPORT


@pytest.mark.parametrize("transport", list(SessionWire), ids=lambda t: t.value)
def test_max_bit_rate_caps_the_negotiated_speed(tmp_path: Path, transport: SessionWire) -> None:
    sender, receiver, _ = _pair(tmp_path, transport, max_bit_rate=9600)
    with sender, receiver:
        transfer(sender, receiver)
    assert receiver.result is not None and receiver.result.success
    assert receiver.result.bit_rate == 9600


def test_header_info_adds_a_printed_line_above_each_page(tmp_path: Path) -> None:
    sender, receiver, images = _pair(tmp_path, SessionWire.AUDIO, header_info="faxcore test")
    with sender, receiver:
        transfer(sender, receiver)
    (page,) = _received_pages(tmp_path / "recv.tif")
    extra = page.height - images[0].height
    assert 0 < extra <= 64
    header = page.crop((0, 0, page.width, extra))
    assert ImageChops.invert(header.convert("L")).getbbox() is not None  # something printed
    body = page.crop((0, extra, page.width, page.height))
    assert ImageChops.difference(body, images[0]).getbbox() is None


def test_receive_audio_accepts_bytes_bytearray_and_int16_array(tmp_path: Path) -> None:
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1)
    with FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, source), 0.0) as session:
        session.receive_audio(bytes(320), 0.02)
        session.receive_audio(bytearray(640), 0.06)
        session.receive_audio(array.array("h", [0] * 480), 0.12)
        assert len(session.audio_to_send(480)) == 960
        with pytest.raises(FaxStateError, match="whole 16-bit"):
            session.receive_audio(b"\x00\x00\x00", 0.14)
        with pytest.raises(FaxStateError, match="audio session"):
            session.receive_packet(b"\x00", 0, 0.2)


def test_t38_session_refuses_audio_and_counts_malformed_packets(tmp_path: Path) -> None:
    with FaxSession(
        FaxSessionOptions(Direction.RECEIVE, SessionWire.T38, tmp_path / "r.tif"), 0.0
    ) as session:
        with pytest.raises(FaxStateError):
            session.audio_to_send(160)
        session.receive_packet(b"\xff\xff\xff\xff", 0, 0.02)
        assert session.invalid_packets == 1
        assert session.get_timer() == pytest.approx(0.02)


def test_missing_document_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(FaxFileError, match="cannot read"):
        FaxSession(
            FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, tmp_path / "missing.tif"), 0.0
        )
    with pytest.raises(FaxFileError, match="cannot write"):
        FaxSession(
            FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "no" / "r.tif"), 0.0
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("local_ident", "x" * 21, "local ident"),
        ("header_info", "é", "header info"),
        ("resolutions", frozenset(), "resolution"),
        ("max_bit_rate", 12345, "max bit rate"),
        ("t38_version", 4, "T.38 version"),
        ("max_duration", 0.0, "max duration"),
    ],
)
def test_invalid_options_are_refused_with_a_clear_message(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    with pytest.raises(FaxOptionsError, match=message):
        FaxSessionOptions(  # type: ignore[misc]
            Direction.SEND, SessionWire.AUDIO, tmp_path / "x.tif", **{field: value}
        )


def test_sending_and_receiving_roles_default_to_calling_and_answering(tmp_path: Path) -> None:
    send = FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, tmp_path / "s.tif")
    receive = FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "r.tif")
    polled = FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "r.tif",
                               calling=True)
    assert send.calling_party and not receive.calling_party and polled.calling_party


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _churn_sessions(folder: Path, count: int, close: bool) -> None:
    for index in range(count):
        transport = SessionWire.AUDIO if index % 2 else SessionWire.T38
        session = FaxSession(
            FaxSessionOptions(Direction.RECEIVE, transport, folder / "r.tif", local_ident="X"),
            now=0.0,
        )
        if transport is SessionWire.AUDIO:
            session.receive_audio(bytes(320), 0.02)
            session.audio_to_send(160)
        else:
            session.handle_timer(0.02)
        if close:
            session.close()
        del session


@pytest.mark.parametrize("close", [True, False], ids=["closed", "dropped"])
def test_a_thousand_sessions_leave_no_rss_growth(tmp_path: Path, close: bool) -> None:
    _churn_sessions(tmp_path, 100, close)
    gc.collect()
    before = _rss_bytes()
    _churn_sessions(tmp_path, 1000, close)
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < 4 * 1024 * 1024, f"RSS grew by {grown} bytes"


def _tall_blank_page(path: Path, rows: int) -> None:
    Image.new("1", (1728, rows), 255).save(path, compression="group4", dpi=(204, 196))


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _c_heap_bytes() -> int:
    """Bytes glibc's malloc has handed out (where spandsp keeps a page's rows)."""
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return int(info.uordblks + info.hblkhd)


# Rows of a blank fine page 1188 mm long (the default limit), and one ECM
# partial page of T.6 (256 frames of 256 bytes, one bit per blank row).
FINE_MAX_ROWS = 9147
ECM_BLOCK_ROWS = 256 * 256 * 8


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
def test_a_page_longer_than_four_a4_lengths_is_refused_and_ends_the_call(
    tmp_path: Path, ecm: bool
) -> None:
    source = tmp_path / "tall.tif"
    _tall_blank_page(source, 60_000)
    sender = FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.T38, source, ecm=ecm), 0.0)
    receiver = FaxSession(
        FaxSessionOptions(Direction.RECEIVE, SessionWire.T38, tmp_path / "recv.tif", ecm=ecm), 0.0
    )
    with sender, receiver:
        transfer(sender, receiver)
    assert receiver.result is not None and sender.result is not None
    assert not receiver.result.success and receiver.result.pages == 0
    assert receiver.result.t30_text == "page 1 refused: longer than 1188 mm (9147 rows at fine)"
    assert not sender.result.success
    events = _events(receiver)
    assert not [e for e in events if isinstance(e, PageTransferred)]
    [refused] = [e for e in events if isinstance(e, PageRefused)]
    assert (refused.page_no, refused.max_rows, refused.resolution) == (1, FINE_MAX_ROWS, "fine")
    # Without ECM rows arrive a frame at a time: stopped right past the limit.
    # With ECM a whole partial page is decoded at once: at most one block more.
    slack = ECM_BLOCK_ROWS if ecm else 100
    assert FINE_MAX_ROWS < refused.rows <= FINE_MAX_ROWS + slack


def test_memory_of_a_receiving_call_stays_bounded_whatever_the_page_length(
    tmp_path: Path,
) -> None:
    source = tmp_path / "tall.tif"
    rows = 200_000
    _tall_blank_page(source, rows)
    sender = FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.T38, source, ecm=False), 0.0)
    receiver = FaxSession(
        FaxSessionOptions(Direction.RECEIVE, SessionWire.T38, tmp_path / "recv.tif", ecm=False), 0.0
    )
    before = _c_heap_bytes()
    peak = before
    seq = [0, 0]
    with sender, receiver:
        for step in range(1, 100_000):
            now = step * T38_TICK
            sender.handle_timer(now)
            receiver.handle_timer(now)
            for ifp in sender.packets_to_send():
                receiver.receive_packet(ifp, seq[0], now)
                seq[0] += 1
            for ifp in receiver.packets_to_send():
                sender.receive_packet(ifp, seq[1], now)
                seq[1] += 1
            peak = max(peak, _c_heap_bytes())
            if sender.done and receiver.done:
                break
    assert receiver.result is not None and not receiver.result.success
    # spandsp holds a page's rows at 216 bytes each: the receiver used to hold
    # all 200,000 (43 MB, the sender read its page before ``before``); now
    # no more than the limit's 2 MB plus the modems' and libtiff's buffers.
    grown = peak - before
    assert grown < FINE_MAX_ROWS * 216 + 8 * 1024 * 1024, f"C heap grew {grown} bytes"
def test_a_station_id_with_control_characters_arrives_cleaned(tmp_path: Path) -> None:
    """The sender picks its TSI: escape sequences and line breaks never reach faxcore."""
    source = tmp_path / "send.tif"
    write_synthetic_document(source, 1, Resolution.STANDARD)
    hostile = "EVIL\x1b[2J\r\nBcc: x\x07"
    sender = FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.T38, source,
                                          local_ident=hostile), now=0.0)
    receiver = FaxSession(FaxSessionOptions(Direction.RECEIVE, SessionWire.T38,
                                            tmp_path / "recv.tif"), now=0.0)
    with sender, receiver:
        transfer(sender, receiver)
    assert receiver.result is not None and receiver.result.success
    assert receiver.result.remote_ident == "EVIL [2J Bcc: x"
    assert [e.station_id for e in _events(receiver) if isinstance(e, RemoteIdentified)] == [
        "EVIL [2J Bcc: x"]
