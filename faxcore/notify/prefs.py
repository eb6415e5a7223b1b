"""N3 preferences and who gets a mail for an event: pure functions, no I/O.

An address subscribes to some of ``Preference``; ``recipients`` picks, for
one event, the addresses whose preferences cover it. Send reports (S4, S6)
go to the address the sender gave (``report_to``) when there is one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from faxcore.events.kinds import EventKind
from faxcore.notify.errors import InvalidAddress

MAX_ADDRESSES = 5  # R5, V8
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Preference(enum.StrEnum):
    """What an address wants to hear about (the Allstream portal's three choices)."""

    FAX = "fax"  # all faxes: received, partial, failed, send reports
    VOICEMAIL_URGENT = "voicemail_urgent"  # urgent messages and mailbox warnings
    VOICEMAIL = "voicemail"  # every message and mailbox warnings


ALL = frozenset(Preference)
_FAX_KINDS = {EventKind.FAX_RECEIVED, EventKind.FAX_PARTIAL, EventKind.FAX_FAILED}
_REPORT_KINDS = {EventKind.FAX_SENT, EventKind.FAX_SEND_FAILED}
_MAILBOX_KINDS = {EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL, EventKind.VOICEMAIL_MAILBOX_LOCKED}
# The line's own security: every address of the line hears of it.
_ACCOUNT_KINDS = {EventKind.LINE_FAX_PASSWORD_LOCKED}
# Kinds that produce an e-mail; the others are for the bus only.
MAILED_KINDS = frozenset(_FAX_KINDS | _REPORT_KINDS | _MAILBOX_KINDS | _ACCOUNT_KINDS
                         | {EventKind.VOICEMAIL_MESSAGE})


def check_address(text: str) -> str:
    """The address, trimmed; ``InvalidAddress`` says why it is refused."""
    address = text.strip()
    if len(address) > 254 or not _ADDRESS.match(address):
        raise InvalidAddress(f"{text!r} is not an e-mail address (like name@example.com)")
    return address


def parse_preferences(text: str | Iterable[str]) -> frozenset[Preference]:
    """``"fax,voicemail"`` or a list of names to preferences; ``all`` means every one."""
    names = text.split(",") if isinstance(text, str) else list(text)
    result: set[Preference] = set()
    for raw in names:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        if name == "all":
            result |= ALL
            continue
        try:
            result.add(Preference(name))
        except ValueError:
            known = ", ".join(p.value for p in Preference)
            raise InvalidAddress(f"unknown notification kind {raw!r}; known: {known}, all") \
                from None
    if not result:
        raise InvalidAddress("give at least one notification kind")
    return frozenset(result)


def format_preferences(prefs: Iterable[Preference]) -> str:
    """Stable text form stored in the database: ``fax,voicemail``."""
    return ",".join(p.value for p in Preference if p in set(prefs))


def wants(prefs: frozenset[Preference], kind: EventKind, data: Mapping[str, Any]) -> bool:
    """True when an address with ``prefs`` is mailed about this event."""
    if kind in _FAX_KINDS or kind in _REPORT_KINDS:
        return Preference.FAX in prefs
    if kind in _MAILBOX_KINDS:
        return bool(prefs & {Preference.VOICEMAIL, Preference.VOICEMAIL_URGENT})
    if kind in _ACCOUNT_KINDS:
        return True
    if kind is EventKind.VOICEMAIL_MESSAGE:
        if Preference.VOICEMAIL in prefs:
            return True
        return Preference.VOICEMAIL_URGENT in prefs and bool(data.get("urgent"))
    return False


def recipients(kind: EventKind, data: Mapping[str, Any],
               addresses: Sequence[tuple[str, frozenset[Preference]]]) -> list[str]:
    """Who is mailed about one event, in the line's address order, without duplicates."""
    if kind not in MAILED_KINDS:
        return []
    report_to = data.get("report_to")
    if kind in _REPORT_KINDS and isinstance(report_to, str) and report_to:
        return [report_to]
    chosen: list[str] = []
    for address, prefs in addresses:
        if wants(prefs, kind, data) and address not in chosen:
            chosen.append(address)
    return chosen
