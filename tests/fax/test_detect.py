"""CngListener: spandsp hears a calling fax's 1100 Hz CNG, not other tones or silence."""

from __future__ import annotations

import math
import struct

from faxcore.fax.detect import CngListener

RATE = 8000


def tone(freq: float, seconds: float, amplitude: int = 6000) -> bytes:
    n = int(RATE * seconds)
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * freq * i / RATE))
                                   for i in range(n)))


def feed(listener: CngListener, audio: bytes) -> None:
    for start in range(0, len(audio), 320):
        assert listener.on_audio(audio[start:start + 320]) == b""  # listens only


def test_cng_cadence_is_heard() -> None:
    listener = CngListener()
    feed(listener, tone(1100, 0.5) + bytes(2 * RATE))
    assert listener.heard.is_set()


def test_silence_and_a_1400_hz_tone_are_not_cng() -> None:
    listener = CngListener()
    feed(listener, bytes(2 * RATE) + tone(1400, 0.5) + bytes(2 * RATE))
    assert not listener.heard.is_set()
