"""Provisioning of subscriber lines (L1-L4): add, read, change, remove.

Every input goes through ``faxcore.lines.policy`` before a transaction opens,
secrets are hashed (scrypt in a worker thread, so the event loop keeps
serving calls), and each operation is one transaction: a refused change
writes nothing. Callers get ``LineView`` snapshots, which carry no secret and
no hash; code that needs the stored credentials (the Asterisk renderer reads
``sip_ha1``) reads ``faxcore.storage.models.Line`` rows directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode, SecretKind
from faxcore.events import LineChange, line_changed
from faxcore.lines import policy
from faxcore.lines.attempts import guard_for
from faxcore.lines.errors import InvalidLineInput, LineExists, LineNotFound
from faxcore.security.passwords import DEFAULT_REALM, hash_secret, sip_ha1
from faxcore.storage.db import Database
from faxcore.storage.models import Line

# Keys ``LineService.set`` accepts, the same as ``faxcore line set`` takes.
SETTABLE = ("mode", "fax_password", "pin", "sip_password", "station_id", "tsi", "header",
            "language", "send_quality", "send_max_attempts", "mail_format", "mail_from",
            "mail_from_name", "audio_format", "keep_voicemail")
# Notification settings (R5, V8) and the policy check of each.
_MAIL_CHECKS = {
    "mail_format": policy.check_mail_format,
    "mail_from": policy.check_mail_from,
    "mail_from_name": policy.check_mail_from_name,
    "audio_format": policy.check_audio_format,
}


@dataclass(frozen=True)
class LineView:
    """What may be shown about a line: settings, never secrets or their hashes."""

    number: str
    mode: LineMode
    sip_username: str
    sip_realm: str
    station_id: str
    header: str
    language: str
    has_fax_password: bool
    has_pin: bool
    created_at: datetime
    updated_at: datetime
    mail_format: str = "text"
    mail_from: str = ""
    mail_from_name: str = ""
    audio_format: str = "wav"
    keep_voicemail: bool = True
    tsi: str = ""
    send_quality: str = "high"
    send_max_attempts: int | None = None

    @classmethod
    def of(cls, line: Line) -> LineView:
        """Snapshot an ORM row."""
        return cls(
            number=line.number,
            mode=line.mode,
            sip_username=line.sip_username,
            sip_realm=line.sip_realm,
            station_id=line.station_id,
            header=line.header,
            language=line.language,
            has_fax_password=line.fax_password_hash is not None,
            has_pin=line.pin_hash is not None,
            created_at=line.created_at,
            updated_at=line.updated_at,
            mail_format=line.mail_format,
            mail_from=line.mail_from,
            mail_from_name=line.mail_from_name,
            audio_format=line.audio_format,
            keep_voicemail=line.keep_voicemail,
            tsi=line.tsi,
            send_quality=line.send_quality,
            send_max_attempts=line.send_max_attempts,
        )


async def _hash(secret: str | None) -> str | None:
    return None if secret is None else await asyncio.to_thread(hash_secret, secret)


class LineService:
    """Line provisioning on one database; ``realm`` is the SIP digest realm of every line.

    ``config`` gives the secrets' lockouts (the defaults without it).
    """

    def __init__(self, db: Database, realm: str = DEFAULT_REALM,
                 config: FaxcoreConfig | None = None) -> None:
        self.db = db
        self.realm = realm
        self._guards = {secret: guard_for(db, config, secret) for secret in SecretKind}

    async def add(
        self,
        number: str,
        sip_password: str,
        fax_password: str | None = None,
        pin: str | None = None,
        mode: LineMode | str = LineMode.FAX,
        station_id: str = "",
        header: str = "",
        language: str = "fr",
    ) -> LineView:
        """Provision a line; refuses a number already provisioned (``LineExists``)."""
        normal = policy.normalize_number(number)
        username = normal[1:]
        line = Line(
            number=normal,
            mode=policy.check_mode(mode),
            sip_username=username,
            sip_realm=self.realm,
            sip_ha1=sip_ha1(username, self.realm, policy.check_sip_password(sip_password)),
            fax_password_hash=None,
            pin_hash=None,
            station_id=policy.check_station_id(station_id),
            header=policy.check_header(header),
            language=policy.check_language(language),
        )
        if fax_password is not None:
            policy.check_fax_password(fax_password)
        if pin is not None:
            policy.check_pin(pin, normal)
        line.fax_password_hash = await _hash(fax_password)
        line.pin_hash = await _hash(pin)
        try:
            async with self.db.session() as session:
                taken = await session.scalar(
                    select(Line.id).where(
                        or_(Line.number == normal, Line.sip_username == username)
                    )
                )
                if taken is not None:
                    raise LineExists(f"line {normal} already exists")
                session.add(line)
                await session.flush()
                await line_changed(session, normal, LineChange.ADDED)
        except IntegrityError as exc:
            # A concurrent add won the race between the check and the insert.
            raise LineExists(f"line {normal} already exists") from exc
        return LineView.of(line)

    async def get(self, number: str) -> LineView:
        """The line with this number (any formatting policy accepts)."""
        async with self.db.session(read_only=True) as session:
            return LineView.of(await self._row(session, number))

    async def list(self) -> list[LineView]:
        """Every line, ordered by number."""
        async with self.db.session(read_only=True) as session:
            rows = await session.scalars(select(Line).order_by(Line.number))
            return [LineView.of(row) for row in rows]

    async def set(self, number: str, **changes: Any) -> LineView:
        """Change settings or secrets; keys are ``SETTABLE``.

        ``fax_password=None`` or ``pin=None`` removes that secret (web/e-mail
        access or PIN dial-in is then impossible).
        """
        unknown = sorted(set(changes) - set(SETTABLE))
        if unknown:
            raise InvalidLineInput(
                f"unknown setting {unknown[0]!r}; settable: {', '.join(SETTABLE)}"
            )
        normal = policy.normalize_number(number)
        values = await self._checked_changes(normal, changes)
        async with self.db.session() as session:
            line = await self._row(session, normal)
            for key, value in values.items():
                if key == "sip_password":
                    line.sip_realm = self.realm
                    line.sip_ha1 = sip_ha1(line.sip_username, self.realm, value)
                else:
                    setattr(line, key, value)
            await session.flush()
            await line_changed(session, line.number, LineChange.UPDATED, changes)
            await session.refresh(line)
            return LineView.of(line)

    async def _checked_changes(self, number: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate (and hash) every change before any write."""
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("fax_password", "pin"):
                if value is not None:
                    if key == "pin":
                        policy.check_pin(_text(key, value), number)
                    else:
                        policy.check_fax_password(_text(key, value))
                values[f"{key}_hash"] = await _hash(value)
            elif key == "sip_password":
                values[key] = policy.check_sip_password(_text(key, value))
            elif key == "mode":
                values[key] = policy.check_mode(value)
            elif key in ("station_id", "tsi"):
                values[key] = policy.check_station_id(_text(key, value))
            elif key == "send_quality":
                values[key] = policy.check_send_quality(_text(key, value))
            elif key == "send_max_attempts":
                values[key] = policy.check_max_attempts(value)
            elif key == "header":
                values[key] = policy.check_header(_text(key, value))
            elif key in _MAIL_CHECKS:
                values[key] = _MAIL_CHECKS[key](_text(key, value))
            elif key == "keep_voicemail":
                values[key] = policy.check_flag(key, value)
            else:
                values[key] = policy.check_language(_text(key, value))
        return values

    async def remove(self, number: str) -> LineView:
        """Delete the line; its call log entries stay, detached. Returns what was removed."""
        async with self.db.session() as session:
            line = await self._row(session, number)
            view = LineView.of(line)
            await session.delete(line)
            await line_changed(session, line.number, LineChange.REMOVED)
        return view

    async def verify_fax_password(self, number: str, password: str, who: str = "") -> bool:
        """True when ``password`` is the line's fax password (web portal, e-mail to fax).

        Every surface checks it here, under the line's lockout
        (``faxcore.lines.attempts``); ``who`` (an address, a client) is kept
        with the attempt. An unknown line answers False like a wrong password.
        """
        return (await self._guards[SecretKind.FAX_PASSWORD].check(
            policy.normalize_number(number), password, who)).ok

    async def verify_pin(self, number: str, pin: str, who: str = "") -> bool:
        """True when ``pin`` is the line's voicemail PIN (dial-in, V3), under the lockout."""
        return (await self._guards[SecretKind.PIN].check(
            policy.normalize_number(number), pin, who)).ok

    @staticmethod
    async def _row(session: AsyncSession, number: str) -> Line:
        return await find_line(session, number)


async def find_line(session: AsyncSession, number: str) -> Line:
    """The ``Line`` row for ``number`` in the caller's session (``LineNotFound``)."""
    normal = policy.normalize_number(number)
    line = await session.scalar(select(Line).where(Line.number == normal))
    if line is None:
        raise LineNotFound(f"no line {normal}")
    return line


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidLineInput(f"{key} must be text, not {type(value).__name__}")
    return value
