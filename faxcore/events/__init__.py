"""N1 events: a transactional outbox, published to MQTT by a relay.

For features that change state (fax reception and sending, voicemail,
campaigns, lines)::

    from faxcore.events import EventKind, emit

    async with db.session() as session:
        fax.state = "received"
        await emit(session, line="+33123456789", kind=EventKind.FAX_RECEIVED,
                   data={"fax_id": fax.id, "pages": 2, "pdf_path": str(pdf)})

``emit`` adds the event to the same transaction (``InvalidEvent`` if the
kind is unknown or a required field is missing) and returns its id. Kinds,
topics and payload schemas: ``docs/events.md``. ``faxcore serve`` runs the
relay (``wiring.run_events``) when ``mqtt.url`` is set; the notifier reads
the outbox whether or not a broker is configured.
"""

from faxcore.events.errors import BusUnavailable, EventError, InvalidEvent
from faxcore.events.kinds import KINDS, EventKind, LineChange, schema_for, topic
from faxcore.events.outbox import Event, emit, line_changed

__all__ = [
    "KINDS", "BusUnavailable", "Event", "EventError", "EventKind", "InvalidEvent", "LineChange",
    "emit", "line_changed", "schema_for", "topic",
]
