"""Message audio: the silent tail a hang-up leaves is trimmed, speech never is."""

from __future__ import annotations

import array
import io
import math
import wave

import pytest

from faxcore.voicemail.audio import TAIL_PAD_MS, trim_trailing_silence, wav_duration_ms
from faxcore.voicemail.errors import InvalidAudio

RATE = 8000


def wav(samples: list[int], width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(RATE)
        if width == 2:
            w.writeframes(array.array("h", samples).tobytes())
        else:
            w.writeframes(bytes(128 + s // 256 for s in samples))
    return out.getvalue()


def tone(seconds: float) -> list[int]:
    return [int(6000 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(int(seconds * RATE))]


def noise(seconds: float, level: int) -> list[int]:
    return [level if i % 2 else -level for i in range(int(seconds * RATE))]


def test_silent_tail_after_speech_is_cut_to_the_pad() -> None:
    trimmed = trim_trailing_silence(wav(tone(5.0) + noise(1.8, 60)))
    assert wav_duration_ms(trimmed) == pytest.approx(5000 + TAIL_PAD_MS, abs=20)


def test_leading_silence_and_pauses_inside_the_message_are_kept() -> None:
    audio = wav(noise(0.5, 0) + tone(1.0) + noise(2.0, 0) + tone(1.0))
    assert trim_trailing_silence(audio) == audio


def test_a_message_ending_in_speech_is_unchanged() -> None:
    audio = wav(tone(3.0))
    assert trim_trailing_silence(audio) == audio


def test_an_all_silent_recording_becomes_shorter_than_a_second() -> None:
    assert wav_duration_ms(trim_trailing_silence(wav(noise(6.0, 30)))) == TAIL_PAD_MS


def test_trimmed_samples_are_the_original_ones() -> None:
    samples = tone(2.0) + noise(1.0, 0)
    with wave.open(io.BytesIO(trim_trailing_silence(wav(samples)))) as w:
        kept = array.array("h", w.readframes(w.getnframes())).tolist()
    assert kept == samples[:len(kept)] and len(kept) == int((2.0 + TAIL_PAD_MS / 1000) * RATE)


def test_8_bit_audio_is_left_alone() -> None:
    audio = wav(tone(1.0) + noise(2.0, 0), width=1)
    assert trim_trailing_silence(audio) == audio


def test_a_non_wav_recording_is_a_clear_error() -> None:
    with pytest.raises(InvalidAudio, match="not a WAV"):
        trim_trailing_silence(b"RIFF garbage")
