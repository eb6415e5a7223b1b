"""Submitting faxes (S1-S3, S5, S7): check everything, convert once, queue one job per number.

Every check runs before anything is written: an unknown or voicemail-mode
line, a malformed number or an unreadable document raises ``SendRefused``
and leaves no job and no file behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from faxcore.documents import (
    DocumentError,
    DocumentLimits,
    HeaderSpec,
    Quality,
    convert_to_fax,
)
from faxcore.domain import LineMode
from faxcore.lines.errors import InvalidLineInput
from faxcore.lines.policy import normalize_number
from faxcore.send.errors import SendRefused
from faxcore.send.queue import JobView
from faxcore.send.states import JobState
from faxcore.storage.db import Database
from faxcore.storage.files import make_durable
from faxcore.storage.models import Line, SendJob, utcnow

MAX_RECIPIENTS = 2000  # E4: at most 2000 numbers per bulk e-mail


@dataclass(frozen=True)
class SendRequest:
    """What a sender asks for: from which line, to whom, which files, how and when."""

    line: str
    to: Sequence[str]
    files: Sequence[Path]
    quality: Quality | None = None  # None: the line's send_quality (S2)
    not_before: datetime | None = None
    report_to: str | None = None


def _numbers(raw: Sequence[str]) -> list[str]:
    if not raw:
        raise SendRefused("no recipient: give at least one number, e.g. +33123456789")
    if len(raw) > MAX_RECIPIENTS:
        raise SendRefused(f"{len(raw)} recipients: at most {MAX_RECIPIENTS} per send")
    try:
        numbers = [normalize_number(n) for n in raw]
    except InvalidLineInput as exc:
        raise SendRefused(f"recipient {exc}") from exc
    return list(dict.fromkeys(numbers))


def _files(files: Sequence[Path]) -> list[Path]:
    if not files:
        raise SendRefused("no document to send: give at least one file")
    for path in files:
        if not path.is_file():
            raise SendRefused(f"document {path}: no such file")
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise SendRefused(f"document {path}: cannot be read ({exc.strerror})") from exc
    return [Path(p) for p in files]


class SendService:
    """Turns a ``SendRequest`` into queued jobs; documents land in ``spool``."""

    def __init__(self, db: Database, spool: Path, max_attempts: int = 3, *,
                 has_trunk: bool = True, limits: DocumentLimits | None = None) -> None:
        self.db = db
        self.spool = spool
        self.max_attempts = max_attempts
        self.limits = limits or DocumentLimits()
        # Without an outbound trunk only faxcore lines can be reached: other
        # numbers are refused at submit time rather than failing at dial time.
        self.has_trunk = has_trunk

    async def _line(self, number: str) -> Line:
        try:
            normal = normalize_number(number)
        except InvalidLineInput as exc:
            raise SendRefused(f"sending line: {exc}") from exc
        async with self.db.session(read_only=True) as session:
            line = (await session.scalars(select(Line).where(Line.number == normal))).first()
        if line is None:
            raise SendRefused(f"line {normal} does not exist")
        if line.mode is not LineMode.FAX:
            raise SendRefused(
                f"line {normal} is in answering-machine mode: fax sending is disabled (L4)")
        return line

    async def _check_routes(self, numbers: list[str]) -> None:
        if self.has_trunk:
            return
        async with self.db.session(read_only=True) as session:
            known = set(await session.scalars(select(Line.number).where(Line.number.in_(numbers))))
        unreachable = [n for n in numbers if n not in known]
        if unreachable:
            raise SendRefused(
                f"no route to {', '.join(unreachable)}: not a faxcore line, and no outbound "
                "trunk is configured (trunk.name or send.trunk_endpoint)")

    async def submit(self, request: SendRequest) -> list[JobView]:
        """Check, convert once, and queue one job per distinct number (in one transaction)."""
        line = await self._line(request.line)
        numbers = _numbers(request.to)
        await self._check_routes(numbers)
        files = _files(request.files)
        now = utcnow()
        not_before = max(now, request.not_before) if request.not_before else now
        batch = str(uuid.uuid4())
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = self.spool / f"{batch}.tif"
        tsi = line.tsi or line.station_id or line.number
        quality = request.quality or Quality(line.send_quality)
        max_attempts = line.send_max_attempts or self.max_attempts
        header = HeaderSpec(text=line.header, tsi=tsi, when=not_before.astimezone())
        try:
            document = await convert_to_fax(files, out, quality=quality, header=header,
                                            limits=self.limits)
        except DocumentError as exc:
            out.unlink(missing_ok=True)
            raise SendRefused(f"document refused: {exc}") from exc
        # On disk before the jobs that name it exist: a crash never leaves a
        # queued job whose document is missing or cut short.
        await asyncio.to_thread(make_durable, out)
        try:
            async with self.db.session() as session:
                jobs = [SendJob(batch=batch, line_id=line.id, line_number=line.number,
                                to_number=number, document=str(out), pages=document.pages,
                                quality=quality.value, tsi=tsi,
                                report_to=request.report_to, state=JobState.QUEUED, attempts=0,
                                max_attempts=max_attempts, not_before=not_before,
                                next_attempt_at=not_before, reason="", created_at=now)
                        for number in numbers]
                session.add_all(jobs)
                await session.flush()
                return [JobView.of(job) for job in jobs]
        except BaseException:
            out.unlink(missing_ok=True)
            raise
