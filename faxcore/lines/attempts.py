"""Brute-force protection for a line's secrets: the voicemail PIN and the fax password.

Every check is an attempt, recorded *before* the secret is verified, in one
write transaction that also counts the line's recent attempts. On
PostgreSQL that transaction locks the line's row (``SELECT ... FOR
UPDATE``); on SQLite it holds the write lock from ``BEGIN IMMEDIATE``
(``faxcore.storage.db``). Concurrent checks of one line therefore queue at
that point and see each other's attempts: at most ``Lockout.failures``
checks are verified per window, however many calls, browsers or e-mails
guess at once. Past that, the line refuses even the right secret until the
oldest attempt leaves the window.

The slow scrypt verification runs outside any transaction. Then a second
short transaction settles the attempt: a right secret deletes it with the
line's earlier failures; a wrong one marks it settled, and the failure that
brings the settled count to the threshold emits the lock event in that same
transaction, so it is emitted once per lock. An attempt whose check never
finished (a crash in between) keeps counting until it leaves the window:
the lockout fails closed.

Unknown lines, lines without the secret and refused attempts cost the same
scrypt work as a real check, so the answer's timing says nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.config import FaxcoreConfig
from faxcore.domain import SecretKind
from faxcore.events import EventKind, emit
from faxcore.security import untrusted
from faxcore.security.passwords import hash_secret, verify_secret
from faxcore.storage.db import Database
from faxcore.storage.models import Line, SecretAttempt, utcnow

log = logging.getLogger(__name__)

_EQUALIZER = hash_secret("faxcore-no-such-secret")  # checked when there is nothing to check
_COLUMNS = {SecretKind.PIN: "pin_hash", SecretKind.FAX_PASSWORD: "fax_password_hash"}


@dataclass(frozen=True)
class Lockout:
    """``failures`` attempts within ``seconds`` lock the secret."""

    failures: int = 5
    seconds: int = 900


DEFAULT_LOCKOUT = Lockout()
# The event the lock of each secret emits (once per lock), for the subscriber's mail.
LOCK_EVENTS = {SecretKind.PIN: EventKind.VOICEMAIL_MAILBOX_LOCKED,
               SecretKind.FAX_PASSWORD: EventKind.LINE_FAX_PASSWORD_LOCKED}


def configured_lockout(config: FaxcoreConfig, secret: SecretKind) -> Lockout:
    """The operator's lockout of ``secret`` (``voicemail.pin_lockout_*``, ``fax.password_*``)."""
    if secret is SecretKind.PIN:
        return Lockout(config.voicemail.pin_lockout_failures, config.voicemail.pin_lockout_seconds)
    return Lockout(config.fax.password_lockout_failures, config.fax.password_lockout_seconds)


def guard_for(db: Database, config: FaxcoreConfig | None, secret: SecretKind,
              clock: Callable[[], datetime] = utcnow) -> SecretGuard:
    """The guard of ``secret`` with the configured lockout (defaults without a config)."""
    lockout = DEFAULT_LOCKOUT if config is None else configured_lockout(config, secret)
    return SecretGuard(db, secret, lockout, lock_event=LOCK_EVENTS[secret], clock=clock)


@dataclass(frozen=True)
class Checked:
    """The answer: ``ok`` with the line, or a refusal that says nothing more."""

    ok: bool
    line_id: int | None = None
    number: str = ""


@dataclass(frozen=True)
class _Admission:
    """An attempt recorded and admitted for verification against ``stored``."""

    line_id: int
    number: str
    stored: str
    attempt_id: int


class SecretGuard:
    """Checks one kind of line secret with a persisted, race-free lockout."""

    def __init__(self, db: Database, secret: SecretKind, lockout: Lockout,
                 lock_event: EventKind | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.secret = secret
        self.lockout = lockout
        self.lock_event = lock_event
        self.clock = clock

    def _line(self, query: Select[Line]) -> Select[Line]:
        """Lock the line's row on PostgreSQL (SQLite's transaction holds the write lock)."""
        return query.with_for_update() if self.db.dialect == "postgresql" else query

    def _recent(self, line_id: int, since: datetime, settled_only: bool = False
                ) -> Select[int]:
        query = select(func.count()).select_from(SecretAttempt).where(
            SecretAttempt.line_id == line_id, SecretAttempt.secret == self.secret,
            SecretAttempt.at > since)
        return query.where(SecretAttempt.settled.is_(True)) if settled_only else query

    async def locked(self, number: str) -> bool:
        """True while the line ``number`` (E.164) admits no more attempts."""
        since = self.clock() - timedelta(seconds=self.lockout.seconds)
        async with self.db.session(read_only=True) as session:
            line_id = await session.scalar(select(Line.id).where(Line.number == number))
            if line_id is None:
                return False
            return int(await session.scalar(self._recent(line_id, since)) or 0) >= (
                self.lockout.failures)

    async def check(self, number: str, candidate: str, caller: str = "") -> Checked:
        """Verify ``candidate`` as the secret of line ``number`` (E.164).

        ``caller`` says who tried (a caller id, an address): kept with the
        attempt and in the lock event, cleaned and cut to 64 characters.
        """
        now = self.clock()
        who = untrusted.text(caller)
        admission = await self._admit(number, who, now)
        stored = admission.stored if admission is not None else _EQUALIZER
        matches = await asyncio.to_thread(verify_secret, candidate, stored)
        if admission is None:
            return Checked(False)
        async with self.db.session() as session:
            await session.scalar(self._line(select(Line).where(Line.id == admission.line_id)))
            if matches:
                await session.execute(delete(SecretAttempt).where(
                    SecretAttempt.line_id == admission.line_id,
                    SecretAttempt.secret == self.secret,
                    SecretAttempt.settled.is_(True) | (SecretAttempt.id == admission.attempt_id)))
                return Checked(True, admission.line_id, admission.number)
            await self._settle_failure(session, admission, who, now)
        return Checked(False)

    async def _admit(self, number: str, who: str, now: datetime) -> _Admission | None:
        """Count and record the attempt in one locked transaction, before verifying.

        None: refused unchecked (no such line, no such secret, locked).
        """
        since = now - timedelta(seconds=self.lockout.seconds)
        async with self.db.session() as session:
            line = await session.scalar(self._line(select(Line).where(Line.number == number)))
            stored: str | None = getattr(line, _COLUMNS[self.secret]) if line else None
            if line is None or stored is None:
                return None
            recent = int(await session.scalar(self._recent(line.id, since)) or 0)
            if recent >= self.lockout.failures:
                log.warning("%s of %s locked: attempt from %r refused unchecked",
                            self.secret.value, line.number, who)
                return None
            attempt = SecretAttempt(line_id=line.id, secret=self.secret, caller=who, at=now,
                                    settled=False)
            session.add(attempt)
            await session.flush()
            return _Admission(line.id, line.number, stored, attempt.id)

    async def _settle_failure(self, session: AsyncSession, admission: _Admission, who: str,
                              now: datetime) -> None:
        """Mark the attempt a failure; the one reaching the threshold emits the lock event."""
        attempt = await session.get(SecretAttempt, admission.attempt_id)
        if attempt is None:  # removed by a right secret checked meanwhile: a failure still
            attempt = SecretAttempt(line_id=admission.line_id, secret=self.secret, caller=who,
                                    at=now)
            session.add(attempt)
        attempt.settled = True
        await session.flush()
        since = now - timedelta(seconds=self.lockout.seconds)
        failures = int(await session.scalar(
            self._recent(admission.line_id, since, settled_only=True)) or 0)
        if failures != self.lockout.failures:
            return
        log.warning("%s of %s locked after %d failures (last from %r)", self.secret.value,
                    admission.number, failures, who)
        if self.lock_event is not None:
            until = now + timedelta(seconds=self.lockout.seconds)
            await emit(session, line=admission.number, kind=self.lock_event,
                       data={"caller": who, "failures": failures, "until": until.isoformat()})
