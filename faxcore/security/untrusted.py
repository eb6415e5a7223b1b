"""Strings chosen by whoever places a call, cleaned once where the call enters faxcore.

A caller controls its SIP caller id (number and name), the number it dials,
the station id its fax machine sends in T.30 and the DTMF keys it presses.
Each of those crosses into faxcore through one parser (ARI events and
resources, the T.30 binding), and each parser runs it through one function
here. Every function is total: whatever comes in (any length, any code
point, not even a ``str``), a bounded printable ``str`` comes out and nothing
raises, so the code behind the edge can store, log, mail and play the value
as it is: it fits every database column and holds no separator, control
character or media URI.
"""

from __future__ import annotations

import unicodedata

# E.164 has at most 15 digits; an international or carrier prefix adds a few.
NUMBER_MAX_DIGITS = 20
# What a dialled string may hold besides digits: keypad keys.
_DIAL_KEYS = frozenset("0123456789*#")
_DIGITS = frozenset("0123456789")
DTMF_KEYS = "0123456789*#"
NAME_MAX = 64         # caller name, call-log text
STATION_ID_MAX = 20   # T.30 identification field (TSI/CSI): 20 characters
ARG_MAX = 64          # one Stasis argument (line numbers, service words)
# Work done on a value is bounded by its cap, not by what was sent.
_SCAN_FACTOR = 4


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
            return ""
    return ""


def text(value: object, limit: int = NAME_MAX) -> str:
    """Printable text of at most ``limit`` characters.

    Control, format, private-use and unassigned characters and every kind of
    line or paragraph separator become a space; runs of spaces become one;
    the ends are stripped.
    """
    raw = _as_text(value)[: limit * _SCAN_FACTOR]
    kept = []
    for ch in raw:
        category = unicodedata.category(ch)
        kept.append(" " if category[0] in "CZ" else ch)
    # Cut, then strip again: the cut may end on a space between two words.
    return " ".join("".join(kept).split())[:limit].rstrip()


def _keys(value: object, allowed: frozenset[str]) -> str:
    raw = _as_text(value).strip()[: NUMBER_MAX_DIGITS * _SCAN_FACTOR + 1]
    plus = "+" if raw.startswith("+") else ""
    return plus + "".join(ch for ch in raw if ch in allowed)[:NUMBER_MAX_DIGITS]


def caller_number(value: object) -> str:
    """A caller id number: an optional leading ``+`` and ASCII digits, at most 20.

    Anything else a caller may put there (``anonymous``, a SIP URI, commas,
    letters) is dropped: ``""`` means the caller gave no number.
    """
    number = _keys(value, _DIGITS)
    return number if number.strip("+") else ""


def dialled_number(value: object) -> str:
    """A dialled number: an optional leading ``+``, digits, ``*`` and ``#``, at most 20."""
    number = _keys(value, _DIAL_KEYS)
    return number if number.strip("+") else ""


def station_id(value: object) -> str:
    """A T.30 station id (TSI/CSI) as printable ASCII, at most 20 characters."""
    raw = _as_text(value)[: STATION_ID_MAX * _SCAN_FACTOR]
    return text("".join(ch if " " <= ch <= "~" else " " for ch in raw), STATION_ID_MAX)


def dtmf_key(value: object) -> str:
    """One DTMF key faxcore acts on (``0``-``9``, ``*``, ``#``); ``""`` for any other.

    The A-D keys of a full keypad, several characters or nothing all mean
    "no key": a caller pressing them is ignored, never an error.
    """
    return value if isinstance(value, str) and len(value) == 1 and value in DTMF_KEYS else ""
