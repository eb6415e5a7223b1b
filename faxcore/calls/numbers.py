"""Which line a dialed number means, sans I/O.

Lines are stored E.164 with '+'. A dialed extension may come as ``+33123456789``,
``33123456789`` or ``0033123456789`` (international without '+'), or as the
national digits ``0123456789``. ``candidates`` gives the exact numbers to look
up; ``national_suffix`` the significant number to match when the dialed form is
national (trunk prefix 0); ``pick`` chooses among the lines found.
"""

from __future__ import annotations

from collections.abc import Iterable


def digits_of(dialed: str) -> str:
    """The digits of a dialed string (drops '+', spaces, dashes, dots)."""
    return "".join(ch for ch in dialed if ch.isdigit())


def _text(dialed: str) -> str:
    """The dialed string; a '+' before a 0 is dropped (no country code starts with 0,
    the dialplan's ``Goto(+${EXTEN})`` puts it in front of national numbers)."""
    text = dialed.strip()
    if text.startswith("+0"):
        return text[1:]
    return text


def candidates(dialed: str) -> list[str]:
    """E.164 forms (with '+') the dialed string may stand for, most likely first."""
    text = _text(dialed)
    digits = digits_of(text)
    if not digits:
        return []
    if text.startswith("+"):
        return ["+" + digits]
    if digits.startswith("00") and len(digits) > 2:
        return ["+" + digits[2:]]
    if digits.startswith("0"):
        return []
    return ["+" + digits]


def national_suffix(dialed: str) -> str | None:
    """The national significant number when ``dialed`` is national (``0`` + digits)."""
    text = _text(dialed)
    digits = digits_of(text)
    if text.startswith("+") or digits.startswith("00") or not digits.startswith("0"):
        return None
    rest = digits[1:]
    return rest if len(rest) >= 4 else None


def pick(dialed: str, numbers: Iterable[str]) -> str | None:
    """The one line number ``dialed`` designates among ``numbers``, or None.

    Exact E.164 forms win; a national form matches a line whose number is a
    1-3 digit country code followed by the national significant number, and
    only when exactly one line matches (otherwise the call is ambiguous).
    """
    known = list(numbers)
    for candidate in candidates(dialed):
        if candidate in known:
            return candidate
    suffix = national_suffix(dialed)
    if suffix is None:
        return None
    matches = [n for n in known if n.endswith(suffix) and 1 <= len(n) - 1 - len(suffix) <= 3]
    return matches[0] if len(matches) == 1 else None
