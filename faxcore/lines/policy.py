"""Rules for line input (L1, L2): pure functions, each error message says what to do.

Each ``check_*`` returns the value to store (normalised) or raises
``InvalidLineInput``. Nothing here touches the database.
"""

from __future__ import annotations

import itertools
import re
import string

from faxcore.documents.model import Quality
from faxcore.domain import LineMode
from faxcore.lines.errors import InvalidLineInput

NUMBER_MIN_DIGITS = 8
NUMBER_MAX_DIGITS = 15  # E.164
SIP_PASSWORD_MIN, SIP_PASSWORD_MAX = 8, 20
FAX_PASSWORD_MIN, FAX_PASSWORD_MAX = 6, 12
PIN_MIN, PIN_MAX = 4, 10
STATION_ID_MAX = 20  # T.30 identification field
HEADER_MAX = 80
MAX_ATTEMPTS_MAX = 10  # per fax; a line may lower or raise send.max_attempts up to this

_SEPARATORS = re.compile(r"[\s.\-]+")
_PRINTABLE = frozenset(string.ascii_letters + string.digits + string.punctuation)
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def normalize_number(text: str) -> str:
    """E.164 ``+digits`` from what people type: ``+33 1 23.45-67 89``, ``0033123456789``.

    National numbers (``01 23 45 67 89``) are refused: their country is unknown.
    """
    raw = text.strip()
    if not raw:
        raise InvalidLineInput(
            "number is empty: give it in international format, e.g. +33123456789"
        )
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        raise InvalidLineInput(
            f"number {raw!r} is not in international format: start with + or 00 and the "
            "country code, e.g. +33 1 23 45 67 89"
        )
    if not digits.isascii() or not digits.isdigit():
        raise InvalidLineInput(
            f"number {raw!r} may contain only digits, spaces, dots and dashes after + or 00"
        )
    if not NUMBER_MIN_DIGITS <= len(digits) <= NUMBER_MAX_DIGITS:
        raise InvalidLineInput(
            f"number {raw!r} must have {NUMBER_MIN_DIGITS} to {NUMBER_MAX_DIGITS} digits "
            f"after + (it has {len(digits)})"
        )
    if digits[0] == "0":
        raise InvalidLineInput(f"number {raw!r}: a country code cannot start with 0")
    return "+" + digits


def sip_username_for(number: str) -> str:
    """The SIP user an ATA registers with: the number's digits without ``+`` (used by tests)."""
    return normalize_number(number)[1:]


def _require_printable(secret: str, what: str) -> None:
    if any(ch not in _PRINTABLE for ch in secret):
        raise InvalidLineInput(
            f"{what} may contain only letters, digits and ASCII special characters "
            "(no spaces or accents)"
        )


def check_sip_password(password: str) -> str:
    """L2: 8-20 characters mixing at least two of digits, letters, special characters."""
    if not SIP_PASSWORD_MIN <= len(password) <= SIP_PASSWORD_MAX:
        raise InvalidLineInput(
            f"SIP password must be {SIP_PASSWORD_MIN} to {SIP_PASSWORD_MAX} characters long "
            f"(it has {len(password)})"
        )
    _require_printable(password, "SIP password")
    classes = (
        any(c in string.digits for c in password)
        + any(c in string.ascii_letters for c in password)
        + any(c in string.punctuation for c in password)
    )
    if classes < 2:
        raise InvalidLineInput(
            "SIP password must mix at least two kinds of characters among digits, letters "
            "and special characters"
        )
    return password


def check_fax_password(password: str) -> str:
    """L2: 6-12 characters (it is typed into e-mails and the web portal)."""
    if not FAX_PASSWORD_MIN <= len(password) <= FAX_PASSWORD_MAX:
        raise InvalidLineInput(
            f"fax password must be {FAX_PASSWORD_MIN} to {FAX_PASSWORD_MAX} characters long "
            f"(it has {len(password)})"
        )
    _require_printable(password, "fax password")
    return password


def _is_run(digits: str, step: int) -> bool:
    return all((int(b) - int(a)) % 10 == step % 10 for a, b in itertools.pairwise(digits))


def check_pin(pin: str, number: str | None = None) -> str:
    """Voicemail PIN: 4-10 digits, not trivial, not the end of the line's own number."""
    if not pin.isascii() or not pin.isdigit():
        raise InvalidLineInput("PIN must contain digits only")
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        raise InvalidLineInput(
            f"PIN must be {PIN_MIN} to {PIN_MAX} digits long (it has {len(pin)})"
        )
    if len(set(pin)) == 1:
        raise InvalidLineInput("PIN must not repeat a single digit")
    if _is_run(pin, 1) or _is_run(pin, -1):
        raise InvalidLineInput("PIN must not be an ascending or descending sequence of digits")
    if number is not None and normalize_number(number).endswith(pin):
        raise InvalidLineInput("PIN must not be the last digits of the line's number")
    return pin


def check_mode(mode: str | LineMode) -> LineMode:
    """``fax`` or ``voicemail`` (L1, L4)."""
    try:
        return LineMode(mode.strip().lower() if isinstance(mode, str) else mode)
    except ValueError as exc:
        raise InvalidLineInput(f"mode must be 'fax' or 'voicemail', not {mode!r}") from exc


def check_station_id(station_id: str) -> str:
    """Fax identity (CSI/TSI, R3/S3): at most 20 printable ASCII characters."""
    value = station_id.strip()
    if len(value) > STATION_ID_MAX or any(c not in _PRINTABLE and c != " " for c in value):
        raise InvalidLineInput(
            f"station id must be at most {STATION_ID_MAX} printable ASCII characters, "
            f"e.g. '+33 1 23 45 67 89'"
        )
    return value


def check_send_quality(value: str) -> str:
    """A line's default send quality (S2): one of ``Quality``'s names."""
    text = value.strip().lower()
    names = [q.value for q in Quality]
    if text not in names:
        raise InvalidLineInput(f"send_quality must be one of {', '.join(names)}, not {value!r}")
    return text


def check_max_attempts(value: str | int | None) -> int | None:
    """Attempts per fax of a line (S4): 1 to 10, or empty for ``send.max_attempts``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ATTEMPTS_MAX:
        raise InvalidLineInput(
            f"send_max_attempts must be a whole number from 1 to {MAX_ATTEMPTS_MAX} "
            f"(or empty for the configured default), not {value!r}")
    return int(text)


def check_header(header: str) -> str:
    """Page header line (S3): at most 80 characters, no control characters."""
    value = header.strip()
    if len(value) > HEADER_MAX or any(not c.isprintable() for c in value):
        raise InvalidLineInput(
            f"header must be at most {HEADER_MAX} characters on one line (it has {len(value)})"
        )
    return value


def check_language(language: str) -> str:
    """Prompt language as Asterisk names its sound folders: ``fr``, ``en``, ``en_GB``."""
    value = language.strip()
    if not _LANGUAGE.fullmatch(value):
        raise InvalidLineInput(
            f"language must be a code like 'fr', 'en' or 'en_GB', not {language!r}"
        )
    return value


MAIL_FORMATS = ("text", "html")
AUDIO_FORMATS = ("wav", "mp3", "ogg")
MAIL_FROM_NAME_MAX = 80
_MAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def check_mail_format(value: str) -> str:
    """R5: notification e-mails as ``text`` or ``html``."""
    choice = value.strip().lower()
    if choice not in MAIL_FORMATS:
        raise InvalidLineInput(f"mail_format must be 'text' or 'html', not {value!r}")
    return choice


def check_mail_from(value: str) -> str:
    """R5, V8: the sender address of notifications; empty means faxcore's default."""
    address = value.strip()
    if address and (len(address) > 254 or not _MAIL.match(address)):
        raise InvalidLineInput(f"mail_from {value!r} is not an e-mail address")
    return address


def check_mail_from_name(value: str) -> str:
    """The sender name of notifications: one line, at most 80 characters."""
    name = value.strip()
    if len(name) > MAIL_FROM_NAME_MAX or any(not c.isprintable() for c in name):
        raise InvalidLineInput(
            f"mail_from_name must be at most {MAIL_FROM_NAME_MAX} characters on one line")
    return name


def check_audio_format(value: str) -> str:
    """V8: the voicemail attachment's format."""
    choice = value.strip().lower()
    if choice not in AUDIO_FORMATS:
        raise InvalidLineInput(
            f"audio_format must be one of {', '.join(AUDIO_FORMATS)}, not {value!r}")
    return choice


def check_flag(key: str, value: str | bool) -> bool:
    """A yes/no setting given as text (``yes``, ``no``, ``true``, ``0`` ...)."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidLineInput(f"{key} must be yes or no, not {value!r}")
