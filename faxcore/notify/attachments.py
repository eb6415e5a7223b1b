"""Files that go with a notification: the fax PDF (R5), the message audio (V8).

Never dropped silently: a file over the size limit or gone from disk is
replaced by a notice in the mail body saying so.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from faxcore.events.kinds import EventKind
from faxcore.events.outbox import Event
from faxcore.notify.compose import Attachment, LineMail, Parts, language_of

log = logging.getLogger(__name__)

AUDIO_FORMATS = {"wav": ("audio", "wav"), "mp3": ("audio", "mpeg"), "ogg": ("audio", "ogg")}
_NOTICES = {
    "fr": {
        "too_big": "La pièce jointe {name} ({size:.1f} Mo) dépasse la taille maximale de "
                   "{limit:.1f} Mo ; elle n’est pas jointe. Retrouvez-la sur le portail.",
        "missing": "La pièce jointe {name} n’est plus disponible.",
    },
    "en": {
        "too_big": "The attachment {name} ({size:.1f} MB) is over the {limit:.1f} MB limit "
                   "and is not attached. It is available on the portal.",
        "missing": "The attachment {name} is no longer available.",
    },
}


def convert_audio(source: Path, audio_format: str) -> bytes:
    """The recording in ``audio_format`` (wav, mp3, ogg) through ffmpeg; blocking."""
    if audio_format == "wav" and source.suffix.lower() == ".wav":
        return source.read_bytes()
    out = io.BytesIO()
    codec = {"ogg": "libvorbis"}.get(audio_format)
    # pydub leaves a file it opened itself unclosed (a ResourceWarning): it gets ours.
    with source.open("rb") as audio:
        recording = AudioSegment.from_file(audio, format=source.suffix.lstrip(".") or None)
    recording.export(out, format=audio_format, codec=codec)
    return out.getvalue()


async def gather_parts(event: Event, line: LineMail, max_bytes: int) -> Parts:
    """Attachments for this event in the line's formats, or notices replacing them."""
    lang = language_of(line)
    parts = Parts()
    data = event.data
    if event.kind in (EventKind.FAX_RECEIVED, EventKind.FAX_PARTIAL) and data.get("pdf_path"):
        path = Path(str(data["pdf_path"]))
        await _add(parts, path, f"fax-{data.get('fax_id', event.id)}.pdf",
                   ("application", "pdf"), None, lang, max_bytes)
    elif event.kind is EventKind.VOICEMAIL_MESSAGE and data.get("audio_path"):
        path = Path(str(data["audio_path"]))
        fmt = line.audio_format if line.audio_format in AUDIO_FORMATS else "wav"
        await _add(parts, path, f"message-{data.get('message_id', event.id)}.{fmt}",
                   AUDIO_FORMATS[fmt], fmt, lang, max_bytes)
    return parts


async def _add(parts: Parts, path: Path, name: str, mime: tuple[str, str],
               audio_format: str | None, lang: str, max_bytes: int) -> None:
    notices = _NOTICES[lang]
    try:
        if audio_format is None:
            content = await asyncio.to_thread(path.read_bytes)
        else:
            content = await asyncio.to_thread(convert_audio, path, audio_format)
    except (FileNotFoundError, CouldntDecodeError) as exc:
        log.warning("notification attachment %s unavailable: %s", path, exc)
        parts.notices.append(notices["missing"].format(name=name))
        return
    if len(content) > max_bytes:
        log.info("attachment %s (%d bytes) over the %d byte limit: notice instead",
                 name, len(content), max_bytes)
        parts.notices.append(notices["too_big"].format(
            name=name, size=len(content) / 1e6, limit=max_bytes / 1e6))
        return
    parts.attachments.append(Attachment(name, content, *mime))
