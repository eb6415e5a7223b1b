"""Why an attempt failed, whether to try again, and what to tell the subscriber (S4).

One table per source: Q.850 release causes of the call and T.30 completion
codes of the fax session. ``docs/failures.md`` shows the same table
(``markdown()`` renders it; a test keeps both equal).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from faxcore.spandsp.t30 import T30Error


class Source(enum.StrEnum):
    """Where a failure code comes from."""

    Q850 = "q850"
    T30 = "t30"
    LOCAL = "local"


@dataclass(frozen=True)
class Rule:
    """What a code means: retry or not, and one sentence for the subscriber."""

    retry: bool
    sentence: str


_BUSY = Rule(True, "The number was busy.")
_NO_ANSWER = Rule(True, "Nobody answered the call.")
_NETWORK = Rule(True, "The telephone network was temporarily unable to connect the call.")
_BAD_NUMBER = Rule(False, "The number does not exist or is not reachable; check it.")
_REFUSED = Rule(False, "The called party refused the call.")
_NOT_FAX = Rule(False, "The called number cannot receive this fax.")
_LINE_ERR = Rule(True, "The fax transmission was disturbed on the line and stopped.")
_NO_FAX = Rule(True, "No fax machine answered at the called number.")
_DOCUMENT = Rule(False, "The document could not be read for sending.")
_ID_REFUSED = Rule(False, "The called fax machine refused the transmission.")

Q850: dict[int, Rule] = {
    1: _BAD_NUMBER,
    2: _BAD_NUMBER,
    3: _BAD_NUMBER,
    16: Rule(True, "The called party hung up before the fax could be sent."),
    17: _BUSY,
    18: _NO_ANSWER,
    19: _NO_ANSWER,
    20: Rule(True, "The called party was not reachable."),
    21: _REFUSED,
    22: Rule(False, "The number has changed; ask the recipient for the new one."),
    27: Rule(True, "The called line was out of order."),
    28: _BAD_NUMBER,
    29: _REFUSED,
    31: _NETWORK,
    34: _NETWORK,
    38: _NETWORK,
    41: _NETWORK,
    42: _NETWORK,
    44: _NETWORK,
    47: _NETWORK,
    50: Rule(False, "The call is not allowed by the subscription."),
    55: Rule(False, "Calls to this number are barred."),
    57: Rule(False, "The call is not allowed by the subscription."),
    58: _NETWORK,
    65: _NOT_FAX,
    69: _NOT_FAX,
    79: _NOT_FAX,
    88: _NOT_FAX,
    102: _NETWORK,
    111: _NETWORK,
    127: _NETWORK,
}
Q850_NAMES = {
    1: "unallocated number", 2: "no route to network", 3: "no route to destination",
    16: "normal clearing", 17: "user busy", 18: "no user responding", 19: "no answer",
    20: "subscriber absent", 21: "call rejected", 22: "number changed",
    27: "destination out of order", 28: "invalid number format", 29: "facility rejected",
    31: "normal, unspecified", 34: "no circuit available", 38: "network out of order",
    41: "temporary failure", 42: "switching equipment congestion",
    44: "requested channel not available", 47: "resource unavailable",
    50: "facility not subscribed", 55: "incoming calls barred", 57: "bearer not authorized",
    58: "bearer not available", 65: "bearer not implemented", 69: "facility not implemented",
    79: "service not implemented", 88: "incompatible destination",
    102: "recovery on timer expiry", 111: "protocol error", 127: "interworking",
}
# Causes not in the table: a network problem, tried again.
Q850_DEFAULT = _NETWORK

_RETRY_T30 = {
    T30Error.CEDTONE: _NO_FAX, T30Error.T0_EXPIRED: _NO_FAX, T30Error.T1_EXPIRED: _NO_FAX,
    T30Error.TX_NODIS: _NO_FAX, T30Error.RX_NOFAX: _NO_FAX,
    T30Error.CALLDROPPED: Rule(True, "The call was cut during the transmission."),
}
_PERMANENT_T30 = {
    T30Error.INCOMPATIBLE: _NOT_FAX, T30Error.RX_INCAPABLE: _NOT_FAX,
    T30Error.TX_INCAPABLE: _NOT_FAX, T30Error.NORESSUPPORT: _NOT_FAX,
    T30Error.NOSIZESUPPORT: _NOT_FAX, T30Error.FILEERROR: _DOCUMENT,
    T30Error.NOPAGE: _DOCUMENT, T30Error.BADTIFF: _DOCUMENT, T30Error.BADPAGE: _DOCUMENT,
    T30Error.BADTAG: _DOCUMENT, T30Error.BADTIFFHDR: _DOCUMENT, T30Error.NOPOLL: _NOT_FAX,
}
_IDENT = {code: _ID_REFUSED for code in T30Error if code.name.endswith("_UNACCEPTABLE")}

T30: dict[int, Rule] = {
    int(code): _RETRY_T30.get(code) or _PERMANENT_T30.get(code) or _IDENT.get(code) or _LINE_ERR
    for code in T30Error if code is not T30Error.OK
}


class Local(enum.IntEnum):
    """Failures faxcore itself notices, outside the call and the fax protocol."""

    INTERRUPTED = 1  # the worker stopped (crash, restart) mid-attempt
    NO_ROUTE = 2  # the number is no faxcore line and no trunk is configured
    DIAL_ERROR = 3  # Asterisk refused or lost the originate request
    DOCUMENT = 4  # the converted document is gone or unreadable
    CANCELLED = 5  # the sender cancelled the job during this attempt


LOCAL: dict[int, Rule] = {
    Local.INTERRUPTED: Rule(True, "The sending service restarted during the transmission."),
    Local.NO_ROUTE: Rule(False, "This number cannot be called from this service."),
    Local.DIAL_ERROR: _NETWORK,
    Local.DOCUMENT: _DOCUMENT,
    Local.CANCELLED: Rule(False, "The fax was cancelled by its sender."),
}

_TABLES: dict[Source, dict[int, Rule]] = {Source.Q850: Q850, Source.T30: T30, Source.LOCAL: LOCAL}


@dataclass(frozen=True)
class Failure:
    """One failed attempt's code, from the call (Q.850), the fax (T.30) or faxcore."""

    source: Source
    code: int

    @property
    def rule(self) -> Rule:
        """The table entry; unknown codes are treated as transient network trouble."""
        return _TABLES[self.source].get(self.code, Q850_DEFAULT)

    @property
    def retry(self) -> bool:
        return self.rule.retry

    @property
    def sentence(self) -> str:
        return self.rule.sentence

    def __str__(self) -> str:
        return f"{self.sentence} ({self.source.value} {self.code})"


def _name(source: Source, code: int) -> str:
    if source is Source.T30:
        return f"T30_ERR_{T30Error(code).name}"
    if source is Source.LOCAL:
        return Local(code).name.lower()
    return Q850_NAMES[code]


def markdown() -> str:
    """The table of ``docs/failures.md``: one row per code."""
    rows = ["| source | code | name | retried | subscriber sentence |",
            "| --- | --- | --- | --- | --- |"]
    for source, table in _TABLES.items():
        for code, rule in table.items():
            rows.append(f"| {source.value} | {code} | {_name(source, code)} | "
                        f"{'yes' if rule.retry else 'no'} | {rule.sentence} |")
    return "\n".join(rows) + "\n"
