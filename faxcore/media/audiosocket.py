"""AudioSocket framing, sans-I/O.

Asterisk's AudioSocket (``chan_audiosocket``, ARI externalMedia with
``encapsulation=audiosocket``) exchanges frames ``kind(1) length(2, big-endian)
payload``: 0x00 hang-up, 0x01 the call's UUID (16 bytes), 0x03 a DTMF digit,
0x10 audio (8 kHz signed 16-bit little-endian linear), 0xFF an error code.
``AudioSocketParser`` takes bytes as they arrive and yields typed frames; it
never reads a socket, so it is tested byte for byte.
"""

from __future__ import annotations

import enum
import struct
import uuid
from dataclasses import dataclass

from faxcore.media.errors import AudioSocketProtocolError

HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF


class FrameKind(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


@dataclass(frozen=True, slots=True)
class Hangup:
    """The call ended (or the peer asks to end it)."""

    def __bytes__(self) -> bytes:
        return HEADER.pack(FrameKind.HANGUP, 0)


@dataclass(frozen=True, slots=True)
class Identify:
    """First frame from Asterisk: the ``data`` UUID given to externalMedia."""

    call_id: uuid.UUID

    def __bytes__(self) -> bytes:
        return HEADER.pack(FrameKind.UUID, 16) + self.call_id.bytes


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str

    def __bytes__(self) -> bytes:
        return HEADER.pack(FrameKind.DTMF, 1) + self.digit.encode("ascii")


@dataclass(frozen=True, slots=True)
class Audio:
    """Signed 16-bit little-endian samples at 8 kHz (320 bytes per 20 ms)."""

    samples: bytes

    def __bytes__(self) -> bytes:
        return HEADER.pack(FrameKind.AUDIO, len(self.samples)) + self.samples


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    code: int

    def __bytes__(self) -> bytes:
        return HEADER.pack(FrameKind.ERROR, 1) + bytes([self.code])


Frame = Hangup | Identify | Dtmf | Audio | ErrorFrame


def audio_frame(samples: bytes) -> bytes:
    """Serialize audio without building a dataclass (the 50-per-second hot path)."""
    if len(samples) > MAX_PAYLOAD:
        raise AudioSocketProtocolError(f"audio payload of {len(samples)} bytes exceeds 65535")
    return HEADER.pack(FrameKind.AUDIO, len(samples)) + samples


def _decode(kind: int, payload: bytes) -> Frame:
    if kind == FrameKind.AUDIO:
        if len(payload) % 2:
            raise AudioSocketProtocolError(f"audio payload of odd length {len(payload)}")
        return Audio(payload)
    if kind == FrameKind.HANGUP:
        return Hangup()
    if kind == FrameKind.UUID:
        if len(payload) != 16:
            raise AudioSocketProtocolError(f"UUID frame of {len(payload)} bytes, expected 16")
        return Identify(uuid.UUID(bytes=payload))
    if kind == FrameKind.DTMF:
        if len(payload) != 1:
            raise AudioSocketProtocolError(f"DTMF frame of {len(payload)} bytes, expected 1")
        return Dtmf(payload.decode("ascii", errors="replace"))
    if kind == FrameKind.ERROR:
        return ErrorFrame(payload[0] if payload else 0)
    raise AudioSocketProtocolError(f"unknown frame kind 0x{kind:02x}")


class AudioSocketParser:
    """Accumulates received bytes and returns complete frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data``; return every frame now complete, in order."""
        self._buffer += data
        frames: list[Frame] = []
        offset = 0
        size = HEADER.size
        buffer = self._buffer
        while len(buffer) - offset >= size:
            kind, length = HEADER.unpack_from(buffer, offset)
            end = offset + size + length
            if end > len(buffer):
                break
            frames.append(_decode(kind, bytes(buffer[offset + size:end])))
            offset = end
        if offset:
            del buffer[:offset]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self._buffer)
