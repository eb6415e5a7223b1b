"""The durable send queue on SQLite and PostgreSQL: claims, limits, retries, leases, events."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from faxcore.documents import Quality
from faxcore.send import (
    AttemptResult,
    Failure,
    JobFinished,
    LeaseLost,
    RetryPolicy,
    SendQueue,
    SendRequest,
    SendService,
    Source,
)
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent, SendAttempt, utcnow
from tests.send.conftest import FAX_LINE, OTHER_LINE

BUSY = Failure(Source.Q850, 17)
SENT = AttemptResult(None, pages=1, bit_rate=14400, remote_csi="REMOTE", transport="t38")


def _queue(db: Database, **limits: int) -> SendQueue:
    return SendQueue(db, RetryPolicy(max_attempts=3, initial=60, maximum=600), lease=30,
                     max_concurrent=limits.get("max_concurrent", 4),
                     max_per_line=limits.get("max_per_line", 1))


async def _submit(db: Database, tmp_path: Path, letter: Path, *to: str, line: str = FAX_LINE,
                  **kw: object) -> list[int]:
    service = SendService(db, tmp_path / "spool")
    jobs = await service.submit(SendRequest(line=line, to=to, files=[letter], **kw))  # type: ignore[arg-type]
    return [j.id for j in jobs]


async def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    """The ``fax.*`` events in order (line provisioning emits ``line.changed`` too)."""
    async with db.session(read_only=True) as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind.like("fax.%"))
                                      .order_by(OutboxEvent.id))).all()
    return [(r.kind, json.loads(r.payload)["data"]) for r in rows]


async def test_sent_job_records_its_attempt_and_event(lines: Database, tmp_path: Path,
                                                      letter: Path) -> None:
    [job_id] = await _submit(lines, tmp_path, letter, "+33 9 87 65 43 21")
    queue = _queue(lines)
    claim = await queue.claim("w1")
    assert claim is not None and claim.job_id == job_id and claim.to_number == "+33987654321"
    assert claim.tsi == "FAXCORE TEST" and Path(claim.document).is_file()
    view = await queue.finish(claim, SENT)
    assert view.state == "sent"
    job = await queue.job(job_id)
    [attempt] = job.history
    assert (attempt.outcome, attempt.pages, attempt.bit_rate, attempt.remote_csi,
            attempt.transport) == ("sent", 1, 14400, "REMOTE", "t38")
    assert attempt.ended_at is not None and attempt.ended_at >= attempt.started_at
    [(kind, data)] = await _events(lines)
    assert kind == "fax.sent" and data["job_id"] == job_id and data["to"] == "+33987654321"
    assert await queue.claim("w1") is None


async def test_busy_is_retried_after_backoff_then_fails_with_reason(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    [job_id] = await _submit(lines, tmp_path, letter, "+33987654321")
    queue = _queue(lines)
    now = utcnow()
    for attempt in (1, 2, 3):
        claim = await queue.claim("w1", now)
        assert claim is not None and claim.attempt == attempt
        view = await queue.finish(claim, AttemptResult(BUSY), now)
        if attempt < 3:
            assert view.state == "queued"
            assert view.next_attempt_at == now + timedelta(seconds=60 * 2 ** (attempt - 1))
            assert await queue.claim("w1", view.next_attempt_at - timedelta(seconds=1)) is None
            now = view.next_attempt_at
    job = await queue.job(job_id)
    assert job.state == "failed" and "busy" in job.reason and "after 3 attempts" in job.reason
    assert [a.q850_cause for a in job.history] == [17, 17, 17]
    kinds = [k for k, _ in await _events(lines)]
    assert kinds == ["fax.send_retry", "fax.send_retry", "fax.send_failed"]
    failed = (await _events(lines))[-1][1]
    assert failed["attempts"] == 3 and "busy" in str(failed["reason"])


async def test_permanent_failure_is_final_at_once(lines: Database, tmp_path: Path,
                                                  letter: Path) -> None:
    await _submit(lines, tmp_path, letter, "+33987654321")
    queue = _queue(lines)
    claim = await queue.claim("w1")
    assert claim is not None
    view = await queue.finish(claim, AttemptResult(Failure(Source.Q850, 1)))
    assert view.state == "failed" and view.attempts == 1 and "does not exist" in view.reason


async def test_deferred_job_is_not_claimed_before_its_time(lines: Database, tmp_path: Path,
                                                           letter: Path) -> None:
    at = utcnow() + timedelta(seconds=30)
    await _submit(lines, tmp_path, letter, "+33987654321", not_before=at)
    queue = _queue(lines)
    assert await queue.claim("w1") is None
    assert await queue.claim("w1", at - timedelta(seconds=1)) is None
    assert await queue.claim("w1", at) is not None


async def test_per_line_and_global_limits(lines: Database, tmp_path: Path, letter: Path) -> None:
    await _submit(lines, tmp_path, letter, "+33987654321", "+33987654322")
    await _submit(lines, tmp_path, letter, "+33987654323", line=OTHER_LINE)
    queue = _queue(lines, max_per_line=1, max_concurrent=2)
    first, second = await queue.claim("w1"), await queue.claim("w1")
    assert first is not None and second is not None
    assert {first.line_number, second.line_number} == {FAX_LINE, OTHER_LINE}
    assert await queue.claim("w1") is None  # FAX_LINE busy, and the global limit reached
    await queue.finish(second if second.line_number == OTHER_LINE else first, SENT)
    assert await queue.claim("w1") is None  # the remaining job's line is still busy
    await queue.finish(first if first.line_number == FAX_LINE else second, SENT)
    assert await queue.claim("w1") is not None


async def test_expired_lease_is_interrupted_and_retried(lines: Database, tmp_path: Path,
                                                        letter: Path) -> None:
    [job_id] = await _submit(lines, tmp_path, letter, "+33987654321")
    queue = _queue(lines)
    now = utcnow()
    crashed = await queue.claim("crashed-worker", now)
    assert crashed is not None
    later = now + timedelta(seconds=31)
    assert await queue.reap(later) == 1
    job = await queue.job(job_id)
    assert job.state == "queued" and job.history[0].outcome == "interrupted"
    assert "restarted" in job.reason
    with pytest.raises(LeaseLost):
        await queue.finish(crashed, SENT)
    retry = await queue.claim("w2", job.next_attempt_at)
    assert retry is not None and retry.attempt == 2
    await queue.finish(retry, SENT)
    job = await queue.job(job_id)
    assert [a.outcome for a in job.history] == ["interrupted", "sent"] and job.state == "sent"


async def test_renewed_lease_is_not_reaped(lines: Database, tmp_path: Path, letter: Path) -> None:
    await _submit(lines, tmp_path, letter, "+33987654321")
    queue = _queue(lines)
    now = utcnow()
    claim = await queue.claim("w1", now)
    assert claim is not None
    await queue.renew(claim, now + timedelta(seconds=20))
    assert await queue.reap(now + timedelta(seconds=31)) == 0


async def test_cancel_stops_a_queued_job_and_a_sending_one(lines: Database, tmp_path: Path,
                                                           letter: Path) -> None:
    first, second = await _submit(lines, tmp_path, letter, "+33987654321", "+33987654322")
    queue = _queue(lines, max_per_line=2)
    claim = await queue.claim("w1")
    assert claim is not None and claim.job_id == first
    assert (await queue.cancel(second)).state == "cancelled"
    await queue.cancel(first)
    with pytest.raises(LeaseLost):
        await queue.renew(claim)
    with pytest.raises(LeaseLost):
        await queue.finish(claim, SENT)
    job = await queue.job(first)
    assert job.state == "cancelled" and job.history[0].outcome == "sent"  # what really happened
    with pytest.raises(JobFinished):
        await queue.cancel(first)
    assert await queue.claim("w1") is None


async def test_two_workers_on_postgresql_claim_20_jobs_once_each(
        pg_url: str, tmp_path: Path, letter: Path) -> None:
    from faxcore.lines.service import LineService
    from faxcore.storage.migrate import upgrade

    await upgrade(pg_url)
    numbers = [f"+3398765{n:04d}" for n in range(20)]
    async with Database(pg_url) as setup:
        await LineService(setup).add(FAX_LINE, sip_password="Secret-123")
        ids = await SendService(setup, tmp_path / "spool").submit(
            SendRequest(line=FAX_LINE, to=numbers, files=[letter], quality=Quality.NORMAL))
    assert len(ids) == 20

    async def worker(name: str) -> list[int]:
        done: list[int] = []
        async with Database(pg_url) as db:
            queue = _queue(db, max_concurrent=20, max_per_line=20)
            while (claim := await queue.claim(name)) is not None:
                await asyncio.sleep(0.01)  # the other worker claims meanwhile
                await queue.finish(claim, SENT)
                done.append(claim.job_id)
        return done

    a, b = await asyncio.gather(worker("host-a"), worker("host-b"))
    assert sorted(a + b) == sorted(j.id for j in ids)
    assert a and b  # both took part
    async with Database(pg_url) as db:
        async with db.session(read_only=True) as session:
            attempts = (await session.scalars(select(SendAttempt))).all()
        assert len(attempts) == 20 and {x.job_id for x in attempts} == {j.id for j in ids}
        assert {j.state for j in await _queue(db).jobs(limit=50)} == {"sent"}


async def test_a_host_clock_minutes_ahead_neither_reaps_a_live_lease_nor_breaks_the_line_limit(
        lines: Database, tmp_path: Path, letter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leases are on the database's clock (11.11).

    The host clock is the one fake here: a machine's clock cannot be moved for
    one test. The second worker's host runs 3 minutes ahead (the lease is 30 s).
    """
    await _submit(lines, tmp_path, letter, "+33987654321", "+33987654322")
    on_time = _queue(lines)
    live = await on_time.claim("w-on-time")
    assert live is not None
    monkeypatch.setattr("faxcore.send.queue.utcnow", lambda: utcnow() + timedelta(minutes=3))
    assert await _queue(lines).claim("w-ahead") is None  # one call per line, still live
    assert await _queue(lines).reap() == 0
    await on_time.renew(live)  # not reaped: still this worker's
    view = await on_time.job(live.job_id)
    assert view.state == "sending" and view.history[0].outcome == "sending"


async def test_the_spool_file_goes_once_every_job_of_its_batch_is_finished(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    ids = await _submit(lines, tmp_path, letter, "+33987654321", "+33987654322", "+33987654323")
    queue = _queue(lines, max_per_line=3)
    first, second = await queue.claim("w1"), await queue.claim("w1")
    assert first is not None and second is not None
    spooled = Path(first.document)
    await queue.finish(first, SENT)
    await queue.finish(second, AttemptResult(Failure(Source.Q850, 1)))  # unallocated: final
    assert spooled.is_file()  # the third job still needs it
    await queue.cancel(ids[2])
    assert not spooled.exists()
