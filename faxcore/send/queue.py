"""The durable send queue: jobs in the database, claimed by workers with a lease.

Several faxcore processes (on several hosts, one PostgreSQL) share the work:
leases are taken and compared on the database's clock, not the hosts';
a claim marks the job ``sending`` for one worker until its lease runs out,
inside a transaction that sees every other claim. On PostgreSQL candidate
rows are read ``FOR UPDATE SKIP LOCKED`` and claims are serialised by a
transaction-level advisory lock, so the concurrency counts they check are
exact; on SQLite the write lock taken at ``BEGIN IMMEDIATE`` does both. A
job whose lease expired (its worker crashed) is recorded as ``interrupted``
and retried per the ``RetryPolicy``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.documents import Quality
from faxcore.events import EventKind, emit
from faxcore.fax.options import Resolution
from faxcore.send.errors import JobFinished, JobNotFound, LeaseLost
from faxcore.send.failures import Failure, Local, Source
from faxcore.send.policy import RetryPolicy
from faxcore.send.routes import (
    DEFAULT_ROUTE,
    AttemptFacts,
    Route,
    Wire,
    fall_back,
    learned,
    rendition_path,
    resolution_of,
)
from faxcore.send.states import ATTEMPTS, JOBS, OPEN_STATES, AttemptOutcome, JobState
from faxcore.storage.db import Database
from faxcore.storage.models import SendAttempt, SendJob, SendRoute, utcnow

# Arbitrary constant naming faxcore's claim lock among PostgreSQL advisory locks.
_CLAIM_LOCK = 0x6661785F73656E64  # "fax_send"
_CANDIDATES = 50
# Attempts of one job retried at once on another route: each changes the route,
# so a handful covers every step (resolution twice, the wire both ways).
MAX_FALLBACKS = 4


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: what to dial and send, and which attempt this is."""

    job_id: int
    attempt_id: int
    attempt: int
    worker: str
    line_number: str
    to_number: str
    document: str
    pages: int
    tsi: str
    quality: str = "high"
    route: Route = DEFAULT_ROUTE  # what this line learned about ``to_number``


@dataclass(frozen=True)
class AttemptResult:
    """How an attempt ended; ``failure`` is ``None`` when the fax was sent."""

    failure: Failure | None
    pages: int = 0
    bit_rate: int | None = None
    remote_csi: str = ""
    transport: str = ""
    resolution: str = ""  # of the document sent (a Resolution's value)
    ecm: bool | None = None


@dataclass(frozen=True)
class AttemptView:
    """One attempt as shown to people and the API."""

    number: int
    outcome: str
    started_at: datetime
    ended_at: datetime | None
    q850_cause: int | None
    t30_code: int | None
    reason: str
    pages: int
    bit_rate: int | None
    remote_csi: str
    transport: str
    resolution: str = ""
    ecm: bool | None = None

    @classmethod
    def of(cls, row: SendAttempt) -> AttemptView:
        return cls(row.number, row.outcome, row.started_at, row.ended_at, row.q850_cause,
                   row.t30_code, row.reason, row.pages, row.bit_rate, row.remote_csi,
                   row.transport, row.resolution, row.ecm)


@dataclass(frozen=True)
class JobView:
    """A send job and its attempts."""

    id: int
    batch: str
    line: str
    to: str
    state: str
    pages: int
    quality: str
    attempts: int
    max_attempts: int
    not_before: datetime
    next_attempt_at: datetime
    reason: str
    created_at: datetime
    finished_at: datetime | None
    history: tuple[AttemptView, ...] = ()
    fallbacks: int = 0  # attempts retried at once on another route, not counted

    @classmethod
    def of(cls, job: SendJob, attempts: Sequence[SendAttempt] = ()) -> JobView:
        return cls(job.id, job.batch, job.line_number, job.to_number, job.state, job.pages,
                   job.quality, job.attempts, job.max_attempts, job.not_before,
                   job.next_attempt_at, job.reason, job.created_at, job.finished_at,
                   tuple(AttemptView.of(a) for a in attempts), job.fallbacks or 0)


def _event_data(job: SendJob, reason: str) -> dict[str, object]:
    return {"job_id": job.id, "to": job.to_number, "pages": job.pages,
            "attempts": job.attempts, "report_to": job.report_to, "reason": reason,
            "document": job.document}


class SendQueue:
    """Claim, renew, finish, reap and cancel send jobs on one database."""

    def __init__(self, db: Database, policy: RetryPolicy, *, lease: float = 120.0,
                 max_concurrent: int = 4, max_per_line: int = 1) -> None:
        self.db = db
        self.policy = policy
        self.lease = timedelta(seconds=lease)
        self.max_concurrent = max_concurrent
        self.max_per_line = max_per_line

    async def _lock_claims(self, session: AsyncSession) -> None:
        if self.db.dialect == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})

    async def claim(self, worker: str, now: datetime | None = None) -> Claim | None:
        """Take the next due job within the limits, or ``None``; expired leases are reaped first."""
        async with self.db.session() as session:
            await self._lock_claims(session)
            now = now or await self.db.now(session)
            finished = await self._reap(session, now)
            rows = (await session.execute(
                select(SendJob.line_number, func.count()).where(SendJob.state == JobState.SENDING)
                .group_by(SendJob.line_number))).all()
            busy: dict[str, int] = {line: count for line, count in rows}
            claim = None
            if sum(busy.values()) < self.max_concurrent:
                claim = await self._take(session, worker, now, busy)
        await self._release_spool(finished)
        return claim

    async def _take(self, session: AsyncSession, worker: str, now: datetime,
                    busy: dict[str, int]) -> Claim | None:
        candidates = (await session.scalars(
            select(SendJob).where(SendJob.state == JobState.QUEUED, SendJob.next_attempt_at <= now)
            .order_by(SendJob.next_attempt_at, SendJob.id).limit(_CANDIDATES)
            .with_for_update(skip_locked=True))).all()
        job = next((j for j in candidates
                    if busy.get(j.line_number, 0) < self.max_per_line), None)
        if job is None:
            return None
        job.state = JOBS.move(job.state, JobState.SENDING)
        job.attempts += 1
        job.lease_owner = worker
        job.lease_expires_at = now + self.lease
        attempt = SendAttempt(job_id=job.id, number=job.attempts, worker=worker,
                              outcome=AttemptOutcome.SENDING, started_at=now, reason="", pages=0,
                              remote_csi="", transport="")
        session.add(attempt)
        await session.flush()
        return Claim(job.id, attempt.id, job.attempts, worker, job.line_number,
                     job.to_number, job.document, job.pages, job.tsi, job.quality,
                     _route(await _route_row(session, job)))

    async def renew(self, claim: Claim, now: datetime | None = None) -> None:
        """Extend the lease; ``LeaseLost`` when the job was reaped or cancelled meanwhile."""
        async with self.db.session() as session:
            now = now or await self.db.now(session)
            job = await self._held(session, claim)
            job.lease_expires_at = now + self.lease

    async def check(self, claim: Claim) -> None:
        """``LeaseLost`` when the attempt is no longer this worker's (cancelled, reaped)."""
        async with self.db.session(read_only=True) as session:
            job = await session.get(SendJob, claim.job_id)
            if job is None or not _holds(job, claim):
                raise _lost(claim)

    async def abandon(self, claim: Claim, now: datetime | None = None) -> None:
        """Close an attempt whose lease was lost while it ran (the job is cancelled or reaped).

        A reaped attempt is already ``interrupted``; one still ``sending`` was
        stopped because its job was cancelled and is recorded so.
        """
        async with self.db.session() as session:
            now = now or await self.db.now(session)
            attempt = await session.get(SendAttempt, claim.attempt_id, with_for_update=True)
            if attempt is not None and attempt.outcome == AttemptOutcome.SENDING:
                _record(attempt, AttemptResult(Failure(Source.LOCAL, Local.CANCELLED)), now,
                        AttemptOutcome.CANCELLED)

    async def _held(self, session: AsyncSession, claim: Claim) -> SendJob:
        job = await session.get(SendJob, claim.job_id, with_for_update=True)
        if job is None or not _holds(job, claim):
            raise _lost(claim)
        return job

    async def finish(self, claim: Claim, result: AttemptResult,
                     now: datetime | None = None) -> JobView:
        """Record the attempt's end and move the job on: sent, retried later, or failed.

        The event (``fax.sent``, ``fax.send_retry``, ``fax.send_failed``) is
        written in the same transaction.
        """
        async with self.db.session() as session:
            now = now or await self.db.now(session)
            attempt = await session.get(SendAttempt, claim.attempt_id, with_for_update=True)
            if attempt is not None and attempt.outcome == AttemptOutcome.SENDING:
                _record(attempt, result, now)  # kept even when the job moved on (cancel)
            job = await session.get(SendJob, claim.job_id, with_for_update=True)
            held = job is not None and _holds(job, claim)
            if job is not None and held:
                fallback = await _learn(session, job, claim, result)
                await self._settle(session, job, result.failure, now, fallback,
                                   result.resolution)
                view = JobView.of(job)
        if not held:
            raise _lost(claim)
        # A stop arriving now must not leave the finished batch's document behind.
        await asyncio.shield(self._release_spool([view]))
        return view

    async def _settle(self, session: AsyncSession, job: SendJob, failure: Failure | None,
                      now: datetime, fallback: str | None = None, resolution: str = "") -> None:
        """Move the job on after an attempt; ``fallback`` says why it goes again at once.

        The report of a sent fax names the resolution it went at, and the one
        asked for when the receiving machine refused it.
        """
        job.lease_owner = None
        job.lease_expires_at = None
        if failure is None:
            job.state, job.reason, job.finished_at = JOBS.move(job.state, JobState.SENT), "", now
            asked = resolution_of(Quality(job.quality)).value
            await emit(session, line=job.line_number, kind=EventKind.FAX_SENT,
                       data={**_event_data(job, ""), "resolution": resolution or asked,
                             "requested_resolution": asked})
            return
        if fallback is not None:
            job.fallbacks += 1
            job.reason = f"{failure}; {fallback}"
            job.state, job.next_attempt_at = JOBS.move(job.state, JobState.QUEUED), now
            await emit(session, line=job.line_number, kind=EventKind.FAX_SEND_RETRY,
                       data={**_event_data(job, job.reason), "next_attempt_at": now.isoformat()})
            return
        decision = self.policy.decide(failure, job.attempts - job.fallbacks, now,
                                      job.max_attempts)
        job.reason = decision.reason
        if decision.retry_at is None:
            job.state, job.finished_at = JOBS.move(job.state, JobState.FAILED), now
            await emit(session, line=job.line_number, kind=EventKind.FAX_SEND_FAILED,
                       data=_event_data(job, decision.reason))
            return
        job.state, job.next_attempt_at = JOBS.move(job.state, JobState.QUEUED), decision.retry_at
        await emit(session, line=job.line_number, kind=EventKind.FAX_SEND_RETRY,
                   data={**_event_data(job, decision.reason),
                         "next_attempt_at": decision.retry_at.isoformat()})

    async def reap(self, now: datetime | None = None) -> int:
        """Record attempts whose lease expired as interrupted; returns how many."""
        async with self.db.session() as session:
            finished = await self._reap(session, now or await self.db.now(session))
        await asyncio.shield(self._release_spool(finished))
        return len(finished)

    async def _reap(self, session: AsyncSession, now: datetime) -> list[JobView]:
        expired = (await session.scalars(
            select(SendJob).where(SendJob.state == JobState.SENDING, SendJob.lease_expires_at < now)
            .with_for_update(skip_locked=True))).all()
        interrupted = Failure(Source.LOCAL, Local.INTERRUPTED)
        for job in expired:
            attempt = (await session.scalars(
                select(SendAttempt).where(SendAttempt.job_id == job.id,
                                          SendAttempt.number == job.attempts))).first()
            if attempt is not None and attempt.outcome == AttemptOutcome.SENDING:
                _record(attempt, AttemptResult(interrupted), now, AttemptOutcome.INTERRUPTED)
            await self._settle(session, job, interrupted, now)
        return [JobView.of(job) for job in expired]

    async def cancel(self, job_id: int) -> JobView:
        """Stop a job that is not finished; a worker sending it loses its lease."""
        async with self.db.session() as session:
            job = await session.get(SendJob, job_id, with_for_update=True)
            if job is None:
                raise JobNotFound(f"no send job {job_id}")
            if job.state not in OPEN_STATES:
                raise JobFinished(f"job {job_id} is already {job.state}")
            job.state = JOBS.move(job.state, JobState.CANCELLED)
            job.finished_at, job.reason = utcnow(), "cancelled"
            job.lease_owner = job.lease_expires_at = None
            view = JobView.of(job)
        await asyncio.shield(self._release_spool([view]))
        return view

    async def _release_spool(self, jobs: Sequence[JobView]) -> None:
        """Delete the converted document of finished jobs once no job of its batch is open.

        Checked after the jobs' own transaction committed, so of two jobs of a
        batch finishing at once the later check sees both finished.
        """
        for batch in {j.batch for j in jobs if j.state not in OPEN_STATES}:
            async with self.db.session(read_only=True) as session:
                rows = (await session.execute(
                    select(SendJob.document, SendJob.state).where(SendJob.batch == batch))).all()
            if rows and not any(state in OPEN_STATES for _, state in rows):
                document = Path(rows[0].document)
                for path in (document, *(rendition_path(document, r) for r in Resolution)):
                    path.unlink(missing_ok=True)

    async def job(self, job_id: int) -> JobView:
        """One job with its attempts."""
        async with self.db.session(read_only=True) as session:
            job = await session.get(SendJob, job_id)
            if job is None:
                raise JobNotFound(f"no send job {job_id}")
            attempts = (await session.scalars(
                select(SendAttempt).where(SendAttempt.job_id == job_id)
                .order_by(SendAttempt.number))).all()
            return JobView.of(job, attempts)

    async def jobs(self, line: str | None = None, limit: int = 100) -> list[JobView]:
        """The latest jobs, newest first, optionally of one line, each with its attempts."""
        query = select(SendJob).order_by(SendJob.id.desc()).limit(limit)
        if line is not None:
            query = query.where(SendJob.line_number == line)
        async with self.db.session(read_only=True) as session:
            jobs = (await session.scalars(query)).all()
            attempts = (await session.scalars(
                select(SendAttempt).where(SendAttempt.job_id.in_([j.id for j in jobs]))
                .order_by(SendAttempt.job_id, SendAttempt.number))).all()
        by_job: dict[int, list[SendAttempt]] = {}
        for attempt in attempts:
            by_job.setdefault(attempt.job_id, []).append(attempt)
        return [JobView.of(j, by_job.get(j.id, ())) for j in jobs]


async def _route_row(session: AsyncSession, job: SendJob) -> SendRoute | None:
    if job.line_id is None:
        return None
    return (await session.scalars(select(SendRoute).where(
        SendRoute.line_id == job.line_id, SendRoute.to_number == job.to_number))).first()


def _route(row: SendRoute | None) -> Route:
    if row is None:
        return DEFAULT_ROUTE
    return Route(Wire(row.wire), row.max_bit_rate, row.ecm, Resolution(row.max_resolution))


async def _learn(session: AsyncSession, job: SendJob, claim: Claim,
                 result: AttemptResult) -> str | None:
    """Keep what this attempt taught about the destination; why it goes again at once, if so.

    A success keeps what worked; a failure another route avoids keeps that
    route (a job retries that way at most ``MAX_FALLBACKS`` times).
    """
    if job.line_id is None or not result.resolution:
        return None
    facts = AttemptFacts(result.failure, result.pages, result.transport,
                         Resolution(result.resolution), result.bit_rate, result.ecm)
    if result.failure is None:
        route, why = learned(claim.route, facts), None
    else:
        fallback = fall_back(claim.route, facts)
        if fallback is None or job.fallbacks >= MAX_FALLBACKS:
            return None
        route, why = fallback.route, fallback.why
    row = await _route_row(session, job)
    if row is None:
        row = SendRoute(line_id=job.line_id, to_number=job.to_number)
        session.add(row)
    row.wire, row.max_bit_rate, row.ecm = route.wire.value, route.max_bit_rate, route.ecm
    row.max_resolution, row.updated_at = route.max_resolution.value, utcnow()
    return why


def _holds(job: SendJob, claim: Claim) -> bool:
    return (job.state == JobState.SENDING and job.lease_owner == claim.worker
            and job.attempts == claim.attempt)


def _lost(claim: Claim) -> LeaseLost:
    return LeaseLost(f"job {claim.job_id}: attempt {claim.attempt} is no longer held by "
                     f"{claim.worker}")


def _record(attempt: SendAttempt, result: AttemptResult, now: datetime,
            outcome: AttemptOutcome | None = None) -> None:
    """The attempt's end: ``outcome``, or sent/failed as ``result`` says."""
    failure = result.failure
    if outcome is None:
        outcome = AttemptOutcome.SENT if failure is None else AttemptOutcome.FAILED
    attempt.outcome = ATTEMPTS.move(attempt.outcome, outcome)
    attempt.ended_at = now
    attempt.pages = result.pages
    attempt.bit_rate = result.bit_rate
    attempt.remote_csi = result.remote_csi[:20]
    attempt.transport = result.transport
    attempt.resolution = result.resolution
    attempt.ecm = result.ecm
    if failure is not None:
        attempt.reason = str(failure)
        if failure.source is Source.Q850:
            attempt.q850_cause = failure.code
        elif failure.source is Source.T30:
            attempt.t30_code = failure.code
