"""Mailbox login for phone retrieval (V3) with a persisted brute-force lockout.

Wrong PIN, unknown mailbox and locked mailbox all answer "no" after the same
scrypt work, so a caller learns nothing about which mailboxes exist. Every
wrong PIN is a row in ``voicemail_pin_failures``: the count survives calls
and restarts. With ``pin_lockout_failures`` failures inside
``pin_lockout_seconds`` the mailbox refuses even the right PIN until the
oldest of them leaves the window; reaching the threshold emits
``voicemail.mailbox_locked`` in the same transaction as the failure.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from faxcore.config import FaxcoreConfig
from faxcore.events.kinds import EventKind
from faxcore.events.outbox import emit
from faxcore.security.passwords import hash_secret, verify_secret
from faxcore.storage.db import Database
from faxcore.storage.models import Line, VoicemailBox, VoicemailPinFailure, utcnow

_EQUALIZER = hash_secret("faxcore-no-such-mailbox")  # checked when there is nothing to check


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
        self.config = config
        self.clock = clock

    async def check(self, mailbox: str, pin: str | None, caller: str = "",
                    own_line: str | None = None) -> LoginResult:
        """Log in; ``pin=None`` only works from the line itself with PIN skipping on."""
        vm = self.config.voicemail
        number = mailbox_number(mailbox)
        now = self.clock()
        window_start = now - timedelta(seconds=vm.pin_lockout_seconds)
        async with self.db.session(read_only=True) as session:
            line = await session.scalar(select(Line).where(Line.number == number))
            box = await session.get(VoicemailBox, line.id) if line else None
            failures = 0 if line is None else int(await session.scalar(
                select(func.count()).select_from(VoicemailPinFailure).where(
                    VoicemailPinFailure.line_id == line.id,
                    VoicemailPinFailure.at > window_start)) or 0)
        if pin is None:
            skip = (line is not None and box is not None and box.skip_pin
                    and own_line == line.number and failures < vm.pin_lockout_failures)
            if skip and line is not None:
                return LoginResult(True, line.id, line.number)
            return LoginResult(False)
        stored = line.pin_hash if line is not None and line.pin_hash else _EQUALIZER
        matches = await asyncio.to_thread(verify_secret, pin, stored)
        if line is None:
            return LoginResult(False)
        locked = failures >= vm.pin_lockout_failures
        if matches and stored is not _EQUALIZER and not locked:
            async with self.db.session() as session:
                await session.execute(delete(VoicemailPinFailure).where(
                    VoicemailPinFailure.line_id == line.id))
            return LoginResult(True, line.id, line.number)
        async with self.db.session() as session:
            session.add(VoicemailPinFailure(line_id=line.id, caller=caller, at=now))
            if failures + 1 == vm.pin_lockout_failures:
                until = now + timedelta(seconds=vm.pin_lockout_seconds)
                await emit(session, line=line.number, kind=EventKind.VOICEMAIL_MAILBOX_LOCKED,
                           data={"caller": caller, "failures": failures + 1,
                                 "until": until.isoformat()})
        return LoginResult(False)
