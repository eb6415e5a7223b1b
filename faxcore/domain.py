"""faxcore's domain types: what a line, a call, a fax, a message and a secret can be.

They belong to no storage: the ORM maps the enums to columns, services and
the sans-I/O cores use them without importing SQLAlchemy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LineMode(enum.StrEnum):
    """L1/L4: a line is a fax line or an answering machine."""

    FAX = "fax"
    VOICEMAIL = "voicemail"


class CallDisposition(enum.StrEnum):
    """What faxcore did with a call."""

    ANSWERED = "answered"
    REJECTED_UNKNOWN_LINE = "rejected_unknown_line"
    REJECTED_FILTER = "rejected_filter"
    REJECTED_OUTBOUND = "rejected_outbound"  # a line's call out refused (L4, number, barring)
    FAILED = "failed"


class FaxState(enum.StrEnum):
    """Where a received fax stands (R2)."""

    RECEIVING = "receiving"
    RECEIVED = "received"
    PARTIAL = "partial"  # ended early: the pages that arrived are kept
    FAILED = "failed"  # ended with no page


class FilterKind(enum.StrEnum):
    """R4: a blocked number/prefix, or an allowed one (any allow entry makes a whitelist)."""

    BLOCK = "block"
    ALLOW = "allow"


class VoicemailFolder(enum.StrEnum):
    """V5/V6: where a message is: not yet heard, heard, or in the Deleted folder."""

    NEW = "new"
    OLD = "old"
    DELETED = "deleted"


class SecretKind(enum.StrEnum):
    """A line secret people type to prove who they are."""

    PIN = "pin"                    # voicemail dial-in (V3)
    FAX_PASSWORD = "fax_password"  # web portal, e-mail to fax


@dataclass(frozen=True)
class LineInfo:
    """A line as call handling sees it: identity and settings, never its secrets.

    Handlers get this snapshot, not a database row: nothing they do can load
    or change the row behind the app's back.
    """

    id: int
    number: str
    mode: LineMode
    station_id: str
    header: str
    language: str

