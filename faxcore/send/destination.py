"""Where a fax machine's dialled number goes, sans I/O: E.164, possible, not barred.

A subscriber's fax machine dials like any phone on its line: ``01 40 00 00 01``
in France, ``0033 1 40 00 00 01``, ``+33140000001``. The number is read in the
calling line's own country with libphonenumber (Google's numbering metadata),
so national forms work everywhere a line is. What cannot be a number there is
refused before the call is answered (Q.850 cause 28), and so is a destination
the operator has barred: premium-rate numbers unless allowed, and the
configured prefixes (cause 21, call rejected).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from faxcore.send.errors import SendRefused

CAUSE_INVALID_NUMBER = 28  # invalid number format (address incomplete)
CAUSE_REJECTED = 21  # call rejected
# Longest dialled string looked at: E.164 has 15 digits; room for 00 and separators.
MAX_DIALLED = 32
_DIALLABLE = re.compile(r"\+?[0-9 ().-]+")


class DestinationRefused(SendRefused):
    """A dialled number faxcore will not send to, with the Q.850 cause the caller gets."""

    def __init__(self, message: str, cause: int) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class Barring:
    """Which destinations the operator bars (``send.barred_prefixes``, premium rate)."""

    prefixes: Sequence[str] = ()
    allow_premium_rate: bool = False


def destination(dialled: str, line_number: str, barring: Barring) -> str:
    """The E.164 number ``dialled`` from the line ``line_number`` stands for.

    Raises ``DestinationRefused`` (with its cause) for what is no possible
    number in the line's country, or a barred destination.
    """
    text = dialled.strip()[:MAX_DIALLED + 1]
    # What the refusal shows of it: printable ASCII only, bounded.
    shown = "".join(c for c in text if c.isascii() and c.isprintable())[:MAX_DIALLED]
    if len(text) > MAX_DIALLED:
        raise DestinationRefused(f"number {shown!r}... is too long", CAUSE_INVALID_NUMBER)
    if not _DIALLABLE.fullmatch(text):
        # libphonenumber would read letters as a vanity number: a machine dials digits.
        raise DestinationRefused(f"number {shown!r} is not a phone number",
                                 CAUSE_INVALID_NUMBER)
    region = phonenumbers.region_code_for_number(phonenumbers.parse(line_number))
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise DestinationRefused(f"number {text!r} is not a phone number",
                                 CAUSE_INVALID_NUMBER) from exc
    if not phonenumbers.is_possible_number(number):
        raise DestinationRefused(f"number {text!r} is not a possible number",
                                 CAUSE_INVALID_NUMBER)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not barring.allow_premium_rate and \
            phonenumbers.number_type(number) == PhoneNumberType.PREMIUM_RATE:
        raise DestinationRefused(f"{e164} is a premium-rate number: barred by the operator",
                                 CAUSE_REJECTED)
    barred = next((p for p in barring.prefixes if e164.startswith(p)), None)
    if barred is not None:
        raise DestinationRefused(f"{e164} is barred by the operator ({barred}...)",
                                 CAUSE_REJECTED)
    return e164
