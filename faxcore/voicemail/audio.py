"""Message audio: lengths and trimming of the WAV files Asterisk records.

A caller who hangs up leaves the seconds between their last word and the
hang-up in the recording (Asterisk trims silence only when silence ends the
recording). Mailbox users expect a message to last as long as it speaks, so
that tail is cut, keeping a short pad so the last syllable is never clipped.
"""

from __future__ import annotations

import array
import io
import math
import sys
import wave

from faxcore.voicemail.errors import InvalidAudio

FRAME_MS = 20
# RMS below this (16-bit linear, about -42 dBFS) counts as silence: line noise
# on a quiet analogue line stays under it, speech is well above.
SILENCE_RMS = 256.0
TAIL_PAD_MS = 250


def wav_duration_ms(audio: bytes) -> int:
    """Length of a WAV file's audio, from its header and data size."""
    with _open(audio) as wav:
        return round(wav.getnframes() * 1000 / wav.getframerate())


def trim_trailing_silence(audio: bytes, threshold: float = SILENCE_RMS,
                          pad_ms: int = TAIL_PAD_MS) -> bytes:
    """``audio`` without its silent tail (``pad_ms`` of it kept); other WAVs unchanged.

    Only 16-bit PCM is trimmed (what ARI records as ``wav``); an all-silent
    recording becomes ``pad_ms`` long, so the minimum length rule drops it.
    """
    with _open(audio) as wav:
        params = wav.getparams()
        if params.sampwidth != 2:
            return audio
        pcm = wav.readframes(params.nframes)
    samples = array.array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    channels = params.nchannels
    frame = params.framerate * FRAME_MS // 1000 * channels
    end = len(samples) - len(samples) % channels
    while end > 0:
        start = max(0, end - frame)
        chunk = samples[start:end]
        if math.sqrt(sum(s * s for s in chunk) / len(chunk)) >= threshold:
            break
        end = start
    keep = min(len(samples), end + params.framerate * pad_ms // 1000 * channels)
    if keep >= len(samples):
        return audio
    out = io.BytesIO()
    with wave.open(out, "wb") as trimmed:
        trimmed.setparams(params)
        trimmed.writeframes(pcm[:keep * 2])
    return out.getvalue()


def _open(audio: bytes) -> wave.Wave_read:
    try:
        return wave.open(io.BytesIO(audio))
    except (wave.Error, EOFError) as exc:
        raise InvalidAudio(f"not a WAV recording: {exc}") from exc
