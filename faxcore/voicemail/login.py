"""Mailbox login for phone retrieval (V3) with a persisted brute-force lockout.

Wrong PIN, unknown mailbox and locked mailbox all answer "no" after the same
scrypt work, so a caller learns nothing about which mailboxes exist. The PIN
is checked through ``faxcore.lines.attempts``: each attempt is recorded and
counted in one locked transaction before it is verified, so parallel calls
get no more guesses than one call. With ``pin_lockout_failures`` attempts
inside ``pin_lockout_seconds`` the mailbox refuses even the right PIN until
the oldest of them leaves the window; reaching the threshold emits
``voicemail.mailbox_locked`` once, in the transaction of that failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from faxcore.config import FaxcoreConfig
from faxcore.domain import SecretKind
from faxcore.lines.attempts import guard_for
from faxcore.storage.db import Database
from faxcore.storage.models import Line, VoicemailBox, utcnow


@dataclass(frozen=True)
class LoginResult:
    """``ok`` with the line logged into, or a refusal that says nothing more."""

    ok: bool
    line_id: int | None = None
    number: str = ""


def mailbox_number(typed: str, country: str = "33") -> str:
    """E.164 from what a caller types: ``+``/``00``/country digits, or a national ``0...``."""
    digits = re.sub(r"\D", "", typed)
    if typed.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return f"+{country}{digits[1:]}"
    return "+" + digits


class MailboxLogin:
    """Checks mailbox + PIN against the line's stored PIN hash."""

    def __init__(self, db: Database, config: FaxcoreConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.guard = guard_for(db, config, SecretKind.PIN, clock)

    async def check(self, mailbox: str, pin: str | None, caller: str = "",
                    own_line: str | None = None) -> LoginResult:
        """Log in; ``pin=None`` only works from the line itself with PIN skipping on."""
        number = mailbox_number(mailbox)
        if pin is not None:
            checked = await self.guard.check(number, pin, caller)
            return LoginResult(checked.ok, checked.line_id, checked.number)
        async with self.db.session(read_only=True) as session:
            line = await session.scalar(select(Line).where(Line.number == number))
            box = await session.get(VoicemailBox, line.id) if line else None
        if (line is None or box is None or not box.skip_pin or own_line != line.number
                or await self.guard.locked(line.number)):
            return LoginResult(False)
        return LoginResult(True, line.id, line.number)
