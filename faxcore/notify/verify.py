"""Events read from the bus are claims: check them against the database before mailing.

Anyone who can publish on the broker can write an event, so an event from
MQTT only names things. The fax, send job or message it names must exist and
belong to the event's line, and every field that reaches the disk or picks a
recipient (``pdf_path``, ``tiff_path``, ``audio_path``, ``report_to``) and
what the mail says of a message (caller, duration, urgency) is replaced by
the stored value. Events from the outbox need no check: faxcore writes them in
the same transaction as the row they report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.events.kinds import EventKind
from faxcore.events.outbox import Event
from faxcore.notify.errors import ForgedEvent
from faxcore.storage.models import Line, ReceivedFax, SendJob, VoicemailMessage

_FAX_IN = (EventKind.FAX_RECEIVED, EventKind.FAX_PARTIAL, EventKind.FAX_FAILED)
_FAX_OUT = (EventKind.FAX_SENT, EventKind.FAX_SEND_FAILED)
_MAX_ID = 2**63 - 1


def _row_id(event: Event, field: str) -> int:
    """The id ``field`` names, as a positive integer; ``ForgedEvent`` otherwise."""
    raw = event.data.get(field)
    text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise ForgedEvent(f"{event.kind.value} {event.id}: {field} {raw!r} is not an id")
    return int(text)


async def verified(session: AsyncSession, line: Line, event: Event) -> Event:
    """``event`` with its stored facts; ``ForgedEvent`` when it names what its line does not own."""
    data: dict[str, Any] = dict(event.data)
    owner = f"line {line.number}"
    if event.kind in _FAX_IN and (event.kind is not EventKind.FAX_FAILED or "fax_id" in data):
        fax_id = _row_id(event, "fax_id")
        fax = await session.scalar(select(ReceivedFax).where(
            ReceivedFax.id == fax_id, ReceivedFax.line_id == line.id))
        if fax is None:
            raise ForgedEvent(f"{event.kind.value} {event.id}: fax {fax_id} is not {owner}'s")
        if event.kind is not EventKind.FAX_FAILED:
            data.update(pdf_path=fax.pdf_path, tiff_path=fax.tiff_path)
        data["caller"] = fax.caller
    elif event.kind in _FAX_OUT:
        job_id = _row_id(event, "job_id")
        job = await session.scalar(select(SendJob).where(
            SendJob.id == job_id, SendJob.line_id == line.id))
        if job is None:
            raise ForgedEvent(f"{event.kind.value} {event.id}: send job {job_id} is not "
                              f"{owner}'s")
        data.update(report_to=job.report_to, to=job.to_number)
    elif event.kind is EventKind.VOICEMAIL_MESSAGE:
        message_id = _row_id(event, "message_id")
        message = await session.scalar(select(VoicemailMessage).where(
            VoicemailMessage.id == message_id, VoicemailMessage.line_id == line.id))
        if message is None:
            raise ForgedEvent(f"{event.kind.value} {event.id}: message {message_id} is not "
                              f"{owner}'s")
        data.update(message_id=message.id, audio_path=message.path, caller=message.caller,
                    duration_s=message.duration_ms / 1000, urgent=message.urgent,
                    private=message.private)
    return replace(event, data=data)
