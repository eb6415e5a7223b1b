"""The N1 event kinds, their MQTT topics and the JSON Schema of each payload.

One table (``KINDS``) says, for each kind, which ``data`` fields exist, their
JSON types and which are required; the schemas published in
``docs/events.md`` are generated from it (a test keeps both equal).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
LINE_PATTERN = r"^\+[1-9][0-9]{7,14}$"


class EventKind(enum.StrEnum):
    """What happened. The value is dotted; the MQTT topic uses slashes."""

    FAX_RECEIVED = "fax.received"
    FAX_PARTIAL = "fax.partial"
    FAX_FAILED = "fax.failed"
    FAX_SENT = "fax.sent"
    FAX_SEND_FAILED = "fax.send_failed"
    FAX_SEND_RETRY = "fax.send_retry"
    CALL_REFUSED = "call.refused"
    CALL_STUCK = "call.stuck"
    VOICEMAIL_MESSAGE = "voicemail.message"
    VOICEMAIL_HEARD = "voicemail.heard"
    VOICEMAIL_DELETED = "voicemail.deleted"
    VOICEMAIL_RESTORED = "voicemail.restored"
    VOICEMAIL_MARKED_NEW = "voicemail.marked_new"
    VOICEMAIL_MAILBOX_LOCKED = "voicemail.mailbox_locked"
    VOICEMAIL_MAILBOX_NEARLY_FULL = "voicemail.mailbox_nearly_full"
    CAMPAIGN_STATE = "campaign.state"
    LINE_CHANGED = "line.changed"
    LINE_FAX_PASSWORD_LOCKED = "line.fax_password_locked"


class LineChange(enum.StrEnum):
    """What a ``line.changed`` event is about (its ``change`` field)."""

    ADDED = "added"
    UPDATED = "updated"              # settings of ``line set``; ``keys`` names them
    REMOVED = "removed"
    FILTERS = "filters"              # R4 entries or refuse_anonymous
    NOTIFY_ADDRESSES = "notify_addresses"
    GREETING = "greeting"            # a greeting recorded, uploaded or chosen; ``keys``: its kind
    MAILBOX_OPTIONS = "mailbox_options"


JsonType = str | tuple[str, ...]


@dataclass(frozen=True)
class KindSpec:
    """The ``data`` fields of one kind: name -> JSON type(s), and the required ones."""

    description: str
    fields: dict[str, JsonType]
    required: tuple[str, ...]


_ID: JsonType = ("string", "integer")
# Fields a fax machine may not report are null rather than absent.
_FAX_IN: dict[str, JsonType] = {
    "fax_id": _ID, "caller": ("string", "null"), "remote_id": ("string", "null"),
    "pages": "integer", "pdf_path": "string", "tiff_path": "string",
    "bit_rate": ("integer", "null"), "ecm": ("boolean", "null"),
    "duration_s": ("number", "null"),
}
_FAX_OUT: dict[str, JsonType] = {
    "job_id": _ID, "to": "string", "pages": "integer", "attempts": "integer",
    "report_to": ("string", "null"), "reason": "string", "document": "string",
}

KINDS: dict[EventKind, KindSpec] = {
    EventKind.FAX_RECEIVED: KindSpec(
        "A fax was received completely; its PDF is at pdf_path.",
        _FAX_IN, ("fax_id", "pages", "pdf_path")),
    EventKind.FAX_PARTIAL: KindSpec(
        "A fax reception ended early; the pages received are kept and at pdf_path.",
        {**_FAX_IN, "reason": "string"}, ("fax_id", "pages", "pdf_path", "reason")),
    EventKind.FAX_FAILED: KindSpec(
        "A fax reception failed with no page received.",
        {"fax_id": _ID, "caller": ("string", "null"), "reason": "string"}, ("reason",)),
    EventKind.FAX_SENT: KindSpec(
        "A fax was sent (S6: a report goes to report_to), at resolution (standard, fine or "
        "superfine), which is coarser than requested_resolution when the receiving machine "
        "refused that one.",
        {**_FAX_OUT, "resolution": "string", "requested_resolution": "string"},
        ("job_id", "to", "pages")),
    EventKind.FAX_SEND_FAILED: KindSpec(
        "A fax could not be sent after the last attempt (S4: a notice goes to report_to).",
        _FAX_OUT, ("job_id", "to", "reason", "attempts")),
    EventKind.FAX_SEND_RETRY: KindSpec(
        "An attempt to send failed; another one is scheduled.",
        {**_FAX_OUT, "next_attempt_at": "string"}, ("job_id", "to", "reason", "attempts")),
    EventKind.CALL_REFUSED: KindSpec(
        "A call to the line was refused (filter, anonymous caller, unknown line).",
        {"caller": "string", "reason": "string"}, ("reason",)),
    EventKind.CALL_STUCK: KindSpec(
        "A call's channel stopped answering inside Asterisk (a request on it got no answer): "
        "faxcore left it alone and closed its log entry; the operator should look at Asterisk.",
        {"channel_id": "string", "request": "string"}, ("channel_id", "request")),
    EventKind.VOICEMAIL_MESSAGE: KindSpec(
        "A caller left a message; its audio is at audio_path.",
        {"message_id": _ID, "caller": "string", "duration_s": "number",
         "audio_path": "string", "urgent": "boolean", "private": "boolean"},
        ("message_id", "duration_s", "audio_path")),
    EventKind.VOICEMAIL_HEARD: KindSpec(
        "A message was listened to.", {"message_id": _ID}, ("message_id",)),
    EventKind.VOICEMAIL_DELETED: KindSpec(
        "A message went to the Deleted folder (or was purged: purged=true).",
        {"message_id": _ID, "purged": "boolean"}, ("message_id",)),
    EventKind.VOICEMAIL_RESTORED: KindSpec(
        "A message came back from the Deleted folder.", {"message_id": _ID}, ("message_id",)),
    EventKind.VOICEMAIL_MARKED_NEW: KindSpec(
        "A message heard before was marked new again.", {"message_id": _ID}, ("message_id",)),
    EventKind.VOICEMAIL_MAILBOX_LOCKED: KindSpec(
        "The mailbox was locked after repeated wrong PINs.",
        {"caller": "string", "failures": "integer", "until": "string"}, ()),
    EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL: KindSpec(
        "The mailbox is close to its limit (V7).",
        {"messages": "integer", "max_messages": "integer", "bytes": "integer",
         "max_bytes": "integer"}, ("messages", "max_messages")),
    EventKind.CAMPAIGN_STATE: KindSpec(
        "A campaign changed state.",
        {"campaign_id": _ID, "state": "string"}, ("campaign_id", "state")),
    EventKind.LINE_CHANGED: KindSpec(
        "A line was added, changed or removed: change is added, updated, removed, filters, "
        "notify_addresses, greeting or mailbox_options; keys names what changed (settings "
        "never carry secrets).",
        {"change": "string", "keys": "array"}, ("change",)),
    EventKind.LINE_FAX_PASSWORD_LOCKED: KindSpec(
        "The fax password (web, API, e-mail to fax) was locked after repeated wrong ones.",
        {"caller": "string", "failures": "integer", "until": "string"}, ()),
}


def parse_kind(kind: str | EventKind) -> EventKind:
    """The kind for its dotted name; ``ValueError`` names the known ones."""
    try:
        return EventKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise ValueError(f"unknown event kind {kind!r}; known: {known}") from None


def topic(prefix: str, line: str, kind: EventKind) -> str:
    """``<prefix>/<line digits>/<kind with slashes>``: ``faxcore/33123456789/fax/received``.

    The ``+`` of the E.164 number is left out: MQTT reserves it as a wildcard.
    """
    return f"{prefix.rstrip('/')}/{line.lstrip('+')}/{kind.value.replace('.', '/')}"


def _json_type(kind: JsonType) -> dict[str, Any]:
    return {"type": kind if isinstance(kind, str) else list(kind)}


def schema_for(kind: EventKind) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the whole payload of one kind."""
    spec = KINDS[kind]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": kind.value,
        "description": spec.description,
        "type": "object",
        "required": ["schema", "id", "kind", "time", "line", "data"],
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "id": {"type": "string", "format": "uuid"},
            "kind": {"const": kind.value},
            "time": {"type": "string", "format": "date-time"},
            "line": {"type": "string", "pattern": LINE_PATTERN},
            "data": {
                "type": "object",
                "required": list(spec.required),
                "properties": {name: _json_type(t) for name, t in spec.fields.items()},
            },
        },
    }
