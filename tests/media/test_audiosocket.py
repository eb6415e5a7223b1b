"""AudioSocket framing, byte for byte."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faxcore.media.audiosocket import (
    HEADER,
    MAX_PAYLOAD,
    Audio,
    AudioSocketParser,
    Dtmf,
    ErrorFrame,
    Frame,
    Hangup,
    Identify,
    audio_frame,
)
from faxcore.media.errors import AudioSocketProtocolError

CALL_ID = uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100")


def test_frames_serialize_to_the_documented_bytes() -> None:
    assert bytes(Hangup()) == b"\x00\x00\x00"
    assert bytes(Identify(CALL_ID)) == b"\x01\x00\x10" + CALL_ID.bytes
    assert bytes(Dtmf("#")) == b"\x03\x00\x01#"
    assert bytes(Audio(b"\x01\x00\xff\x7f")) == b"\x10\x00\x04\x01\x00\xff\x7f"
    assert bytes(ErrorFrame(2)) == b"\xff\x00\x01\x02"
    assert audio_frame(b"\x00" * 320) == b"\x10\x01\x40" + b"\x00" * 320


def test_parser_returns_frames_split_across_reads() -> None:
    stream = bytes(Identify(CALL_ID)) + audio_frame(b"\x05\x00" * 160) + bytes(Dtmf("7"))
    stream += bytes(Hangup())
    parser = AudioSocketParser()
    frames = []
    for i in range(0, len(stream), 7):
        frames += parser.feed(stream[i:i + 7])
    assert frames == [Identify(CALL_ID), Audio(b"\x05\x00" * 160), Dtmf("7"), Hangup()]
    assert parser.pending == 0


def test_parser_keeps_an_incomplete_frame_until_the_rest_arrives() -> None:
    parser = AudioSocketParser()
    assert parser.feed(b"\x10\x00\x04\x01") == []
    assert parser.pending == 4
    assert parser.feed(b"\x02\x03\x04") == [Audio(b"\x01\x02\x03\x04")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x42\x00\x00", "unknown frame kind 0x42"),
        (b"\x01\x00\x02ab", "UUID frame of 2 bytes, expected 16"),
        (b"\x10\x00\x03abc", "audio payload of odd length 3"),
        (b"\x03\x00\x02ab", "DTMF frame of 2 bytes, expected 1"),
    ],
)
def test_parser_rejects_malformed_frames_with_exact_messages(data: bytes, message: str) -> None:
    with pytest.raises(AudioSocketProtocolError, match=f"^{message}$"):
        AudioSocketParser().feed(data)


def test_oversized_audio_is_refused() -> None:
    with pytest.raises(AudioSocketProtocolError, match="exceeds 65535"):
        audio_frame(b"\x00" * 65536)


frames = st.one_of(
    st.just(Hangup()),
    st.uuids().map(Identify),
    st.sampled_from("0123456789*#ABCD").map(Dtmf),
    st.binary(max_size=2000).map(lambda raw: Audio(raw[: len(raw) // 2 * 2])),
    st.integers(0, 255).map(ErrorFrame),
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@given(st.lists(frames, max_size=20), st.lists(st.integers(0, 1 << 16), max_size=30))
def test_frames_come_back_whole_however_the_stream_is_cut(
        sent: list[Frame], cuts: list[int]) -> None:
    stream = b"".join(bytes(frame) for frame in sent)
    parser = AudioSocketParser()
    received = []
    for chunk in _chunks(stream, cuts):
        received += parser.feed(chunk)
    assert received == sent
    assert parser.pending == 0


@given(st.lists(st.binary(max_size=300), max_size=30))
def test_garbage_in_any_chunks_gives_frames_or_a_protocol_error_and_stays_bounded(
        chunks: list[bytes]) -> None:
    parser = AudioSocketParser()
    for chunk in chunks:
        try:
            parser.feed(chunk)
        except AudioSocketProtocolError:
            return  # the stream is then closed: nothing after it is read
        # At most one incomplete frame is kept: a header and 65,535 bytes.
        assert parser.pending < HEADER.size + MAX_PAYLOAD
