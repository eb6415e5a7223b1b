"""Recording a caller over ARI: a beep, Asterisk records, faxcore takes the file.

Used for messages (deposit) and for greetings recorded by phone (the menu).
Asterisk ends a recording on ``#``, on silence, at the maximum length or when
the caller hangs up (the file is kept then). faxcore fetches the stored
recording, trims the silent tail a hang-up leaves and deletes Asterisk's copy,
so Asterisk and faxcore need no shared folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from faxcore.ari.errors import AriError, AriNotFound
from faxcore.ari.events import (
    ChannelDtmfReceived,
    RecordingFailed,
    RecordingFinished,
)
from faxcore.calls.handlers import Call
from faxcore.voicemail.audio import trim_trailing_silence
from faxcore.voicemail.errors import InvalidAudio

log = logging.getLogger(__name__)

END_KEY = "#"
MESSAGE_PREFIX = "faxcore-msg-"  # a caller's message: kept at start if faxcore died meanwhile
OTHER_PREFIX = "faxcore-rec-"  # greetings by phone: dropped at start
CALLER_BYTES = 32
FETCH_TRIES = 15  # x 0.2 s: Asterisk stores a hung-up recording within moments


@dataclass(frozen=True)
class Recorded:
    """What a recording gave: its WAV (empty if none), the keys pressed, a hang-up."""

    audio: bytes
    digits: str
    hung_up: bool


def message_recording_name(line_id: int, caller: str) -> str:
    """A message's recording name, carrying what keeps it if faxcore dies meanwhile.

    The caller is hex-encoded (only ``[0-9a-f]`` reaches Asterisk's file name).
    """
    return (f"{MESSAGE_PREFIX}{line_id}-{caller.encode()[:CALLER_BYTES].hex() or 'x'}-"
            f"{uuid.uuid4().hex}")


def parse_message_recording(name: str) -> tuple[int, str] | None:
    """``(line_id, caller)`` of a message recording name, ``None`` for any other name."""
    if not name.startswith(MESSAGE_PREFIX):
        return None
    try:
        line_id, caller, _ = name[len(MESSAGE_PREFIX):].split("-")
        return int(line_id), "" if caller == "x" else bytes.fromhex(caller).decode(
            errors="ignore")
    except ValueError:  # also UnicodeDecodeError
        return None


async def record_caller(call: Call, *, max_seconds: int, silence_seconds: int,
                        until: asyncio.Event | None = None, name: str = "") -> Recorded:
    """Record ``call`` after a beep until ``#``, silence, the limit or a hang-up.

    ``until`` set (fax tones heard) stops the recording early; what was
    recorded is still returned and Asterisk's copy removed. ``name``
    defaults to a throw-away ``faxcore-rec-`` name (greetings).
    """
    name = name or f"{OTHER_PREFIX}{uuid.uuid4().hex}"
    await call.ari.record(call.id, name, format="wav", beep=True, max_duration=max_seconds,
                          max_silence=silence_seconds, terminate_on=END_KEY,
                          if_exists="overwrite")
    digits, hung_up = await _until_finished(call, name, until)
    audio = await asyncio.to_thread(readable, await _take_stored(call, name), name)
    return Recorded(audio, digits, hung_up)


def readable(audio: bytes, name: str) -> bytes:
    """The recording without its trailing silence; empty when there is nothing to keep.

    A caller who hangs up as the recording starts can leave Asterisk a file
    that is no WAV yet (met in the call soak: a fax sender that gave up at the
    beep). That is no message, not a failed call.
    """
    if not audio:
        return b""
    try:
        return trim_trailing_silence(audio)
    except InvalidAudio as exc:
        log.warning("recording %s (%d bytes) is not readable, nothing kept: %s", name,
                    len(audio), exc)
        return b""


async def _until_finished(call: Call, name: str,
                          until: asyncio.Event | None) -> tuple[str, bool]:
    """Keys pressed while recording, and whether the caller hung up."""
    digits = ""
    while True:
        event = await call.next_event(until)
        if event is None and until is not None and until.is_set() and not call.gone.is_set():
            with contextlib.suppress(AriError):  # it may have just ended by itself
                await call.ari.stop_recording(name)
            return digits, False
        if event is None:
            return digits, True
        if isinstance(event, RecordingFinished | RecordingFailed) \
                and event.recording.name == name:
            if isinstance(event, RecordingFailed):
                log.warning("recording %s on %s failed: %s", name, call.id,
                            event.recording.cause)
            return digits, False
        if isinstance(event, ChannelDtmfReceived) and event.digit:
            digits += event.digit


async def _take_stored(call: Call, name: str) -> bytes:
    """The stored recording's bytes (empty if Asterisk kept none), then deleted there."""
    audio = b""
    for _ in range(FETCH_TRIES):
        try:
            audio = await call.ari.stored_recording_file(name)
            break
        except AriNotFound:
            await asyncio.sleep(0.2)
    if not audio:
        log.warning("call %s: no recording %s stored by Asterisk", call.id, name)
        return b""
    try:
        await call.ari.delete_stored_recording(name)
    except AriError as exc:
        log.warning("could not delete Asterisk's recording %s: %s", name, exc)
    return audio
