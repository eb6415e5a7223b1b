"""What a finished recording keeps: its audio, or nothing when Asterisk left no WAV."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faxcore.voicemail.recording import readable
from tests.voicemail.test_audio import wav


def test_a_recording_cut_off_before_its_wav_header_keeps_nothing_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    """Met in the call soak: the caller hung up at the beep, Asterisk kept a few bytes."""
    with caplog.at_level(logging.WARNING):
        assert readable(b"RIFF\x24\x00", "faxcore-msg-1") == b""
    assert "faxcore-msg-1 (6 bytes) is not readable, nothing kept" in caplog.text


def test_a_recording_keeps_its_audio_up_to_the_trailing_silence() -> None:
    audio = readable(wav([8000, -8000] * 4000 + [0] * 16000), "faxcore-msg-2")
    assert 0 < len(audio) < len(wav([8000, -8000] * 4000 + [0] * 16000))


@given(st.binary(max_size=200))
def test_any_bytes_give_audio_or_nothing_never_an_error(data: bytes) -> None:
    assert isinstance(readable(data, "faxcore-msg-3"), bytes)
