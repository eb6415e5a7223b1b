"""The send worker end to end over real spandsp: claimed jobs are transmitted and settled.

The far end is a receiving ``FaxSession`` wired back to back in this process
(``faxcore.fax.loopback``), real T.30 over T.38 without a call; the call
path is covered by the lab tests.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import text

from faxcore.documents import Quality
from faxcore.documents.tiff import read_tiff
from faxcore.fax.loopback import transfer
from faxcore.fax.options import (
    ALL_RESOLUTIONS,
    Direction,
    FaxSessionOptions,
    Resolution,
    SessionWire,
)
from faxcore.fax.session import FaxSession
from faxcore.send import AttemptResult, Claim, RetryPolicy, SendQueue, SendRequest, SendService
from faxcore.send.outcome import attempt_result, document_for, transmit_options
from faxcore.send.routes import Wire
from faxcore.send.worker import SendWorker, Transmit
from faxcore.spandsp import T30Error
from faxcore.storage.db import Database
from tests.send.conftest import FAX_LINE, OTHER_LINE


def _loopback(received: Path, resolutions: frozenset[Resolution] = ALL_RESOLUTIONS,
              t38_breaks: bool = False) -> Transmit:
    """A ``Transmit`` whose far end is a receiving session in this process.

    ``resolutions``: what the receiving machine accepts. ``t38_breaks``: a
    call the route lets switch to T.38 (``Wire.ANY``) loses every packet after
    the first 20, so the receiver's identification and DIS never arrive and
    spandsp's T1 expires: a T.38 path that stopped carrying anything, met in
    real T.30; a G.711-only route (``Wire.AUDIO``) runs over audio.
    """
    async def transmit(claim: Claim) -> AttemptResult:
        document, resolution = await document_for(claim)
        wire = SessionWire.AUDIO if claim.route.wire is Wire.AUDIO else SessionWire.T38
        losses = [False] * 20 + [True] * 100_000 if t38_breaks and wire is SessionWire.T38 \
            else None

        def run() -> AttemptResult:
            rx_options = FaxSessionOptions(direction=Direction.RECEIVE, wire=wire,
                                           file=received / f"{claim.job_id}-{claim.attempt}.tif",
                                           local_ident="REMOTE CSI", resolutions=resolutions)
            with (FaxSession(transmit_options(claim, wire, document), 0.0) as tx,
                  FaxSession(rx_options, 0.0) as rx):
                transfer(tx, rx, loss_pattern=losses)
                assert tx.result is not None
                return attempt_result(tx.result, wire, resolution)
        return await asyncio.to_thread(run)
    return transmit


async def test_worker_sends_every_job_once_and_records_the_attempt(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    received = tmp_path / "received"
    received.mkdir()
    jobs = await SendService(lines, tmp_path / "spool").submit(
        SendRequest(line=FAX_LINE, to=["+33987654321", "+33987654322"], files=[letter, letter]))
    queue = SendQueue(lines, RetryPolicy(), lease=30, max_concurrent=4, max_per_line=2)
    sent_pages = read_tiff(tmp_path / "spool" / f"{jobs[0].batch}.tif")
    worker = SendWorker(queue, _loopback(received), "w1", slots=2, poll_interval=0.05)
    runner = asyncio.create_task(worker.run())
    document = tmp_path / "spool" / f"{jobs[0].batch}.tif"
    try:
        async with asyncio.timeout(120):
            # Both sent, and then (after their commit) the batch's document removed.
            while {j.state for j in await queue.jobs()} != {"sent"} or document.exists():
                await asyncio.sleep(0.1)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    for job in jobs:
        view = await queue.job(job.id)
        [attempt] = view.history
        assert (attempt.outcome, attempt.transport, attempt.remote_csi) == (
            "sent", "t38", "REMOTE CSI")
        assert attempt.pages == 2 and attempt.bit_rate
        got = read_tiff(received / f"{job.id}-1.tif")
        assert len(got) == len(sent_pages) == 2
        assert [(p.width, p.height) for p in got] == [(p.width, p.height) for p in sent_pages]


async def test_cancelling_a_job_stops_its_call_at_once_and_records_the_attempt(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    [job] = await SendService(lines, tmp_path / "spool").submit(
        SendRequest(line=FAX_LINE, to=["+33987654321"], files=[letter]))
    # A 10-minute lease: renewals come every 200 s, so only the cancel check can stop it.
    queue = SendQueue(lines, RetryPolicy(), lease=600, max_concurrent=4, max_per_line=2)
    calling, hung_up = asyncio.Event(), asyncio.Event()

    async def endless_call(claim: Claim) -> AttemptResult:
        calling.set()
        try:
            await asyncio.sleep(3600)
        finally:
            hung_up.set()  # where the real transmitter hangs the channel up
        raise AssertionError("the call was never stopped")

    worker = SendWorker(queue, endless_call, "w1", slots=1, poll_interval=0.05,
                        check_interval=0.1)
    runner = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(30):
            await calling.wait()
            await queue.cancel(job.id)
            await hung_up.wait()
            while (await queue.job(job.id)).history[0].outcome == "sending":
                await asyncio.sleep(0.05)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    view = await queue.job(job.id)
    assert view.state == "cancelled"
    [attempt] = view.history
    assert attempt.outcome == "cancelled" and attempt.ended_at is not None
    assert "cancelled by its sender" in attempt.reason


async def test_database_errors_during_a_transmission_leave_the_call_alone(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    """Lease renewals failing (the jobs table is gone for 2 s: a real database error on
    SQLite and PostgreSQL) are logged and retried; the call ends normally and is recorded."""
    [job] = await SendService(lines, tmp_path / "spool").submit(
        SendRequest(line=FAX_LINE, to=["+33987654321"], files=[letter]))
    queue = SendQueue(lines, RetryPolicy(), lease=0.9, max_concurrent=4, max_per_line=2)
    calling, hang_up = asyncio.Event(), asyncio.Event()

    async def call(claim: Claim) -> AttemptResult:
        calling.set()
        await hang_up.wait()
        return AttemptResult(None, pages=1, transport="t38")

    worker = SendWorker(queue, call, "w1", slots=1, poll_interval=0.05, check_interval=0.1)
    runner = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(30):
            await calling.wait()
            async with lines.session() as session:
                await session.execute(text("ALTER TABLE send_jobs RENAME TO send_jobs_away"))
            await asyncio.sleep(2.0)  # renewals every 0.3 s fail meanwhile
            async with lines.session() as session:
                await session.execute(text("ALTER TABLE send_jobs_away RENAME TO send_jobs"))
            await asyncio.sleep(0.5)  # renewed again before the 0.9 s lease runs out
            hang_up.set()
            while (await queue.job(job.id)).state == "sending":
                await asyncio.sleep(0.05)
        assert not runner.done()
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    view = await queue.job(job.id)
    assert view.state == "sent"
    [attempt] = view.history
    assert attempt.outcome == "sent"


async def _run_until_finished(queue: SendQueue, transmit: Transmit, job_ids: list[int]) -> None:
    worker = SendWorker(queue, transmit, "w1", slots=1, poll_interval=0.05)
    runner = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(180):
            while not await _finished(queue, job_ids):
                await asyncio.sleep(0.1)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def _finished(queue: SendQueue, job_ids: list[int]) -> bool:
    states = [(await queue.job(i)).state for i in job_ids]
    return not {"queued", "sending"} & set(states)


async def _events_of(db: Database, kind: str, job_id: int) -> list[dict[str, object]]:
    """The data of the job's events of ``kind``, from the outbox, oldest first."""
    async with db.session(read_only=True) as session:
        rows = (await session.execute(
            text("SELECT payload FROM event_outbox WHERE kind = :kind ORDER BY id"),
            {"kind": kind})).scalars().all()
    return [d for d in (json.loads(r)["data"] for r in rows) if d["job_id"] == job_id]


async def test_a_best_fax_to_a_standard_only_machine_arrives_and_the_route_is_remembered(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    """One attempt allowed, and yet delivered: a refused resolution is retried at once,
    one step coarser each time, without counting; the next fax goes at standard first."""
    received = tmp_path / "received"
    received.mkdir()
    service = SendService(lines, tmp_path / "spool", max_attempts=1)
    [job] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                             files=[letter], quality=Quality.BEST))
    queue = SendQueue(lines, RetryPolicy(max_attempts=1), lease=30)
    standard_only = _loopback(received, frozenset({Resolution.STANDARD}))
    await _run_until_finished(queue, standard_only, [job.id])
    view = await queue.job(job.id)
    assert view.state == "sent" and (view.attempts, view.fallbacks) == (3, 2), view
    refused, coarser, sent = view.history
    assert (refused.outcome, refused.t30_code, refused.resolution) == (
        "failed", T30Error.NORESSUPPORT, "superfine")
    assert (coarser.outcome, coarser.t30_code, coarser.resolution) == (
        "failed", T30Error.NORESSUPPORT, "fine")
    assert (sent.outcome, sent.resolution, sent.pages) == ("sent", "standard", 1)
    [page] = read_tiff(received / f"{job.id}-3.tif")
    assert round(page.y_dpi) == 98 and page.width == 1728
    # The report's event names the resolution used and the one asked for.
    [data] = await _events_of(lines, "fax.sent", job.id)
    assert (data["resolution"], data["requested_resolution"]) == ("standard", "superfine")
    # Remembered for this line and number: the next fax goes at standard at once.
    [second] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                                files=[letter], quality=Quality.PREMIUM))
    await _run_until_finished(queue, standard_only, [second.id])
    [only] = (await queue.job(second.id)).history
    assert (only.outcome, only.resolution) == ("sent", "standard")
    # The batch's document and its renditions are gone with the jobs.
    assert not list((tmp_path / "spool").glob("*.tif"))


async def test_a_t38_negotiation_that_breaks_down_is_retried_at_once_in_g711_then_remembered(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    received = tmp_path / "received"
    received.mkdir()
    service = SendService(lines, tmp_path / "spool")
    [job] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                             files=[letter], quality=Quality.NORMAL))
    queue = SendQueue(lines, RetryPolicy(max_attempts=3, initial=3600), lease=30)
    t38_breaks = _loopback(received, t38_breaks=True)
    await _run_until_finished(queue, t38_breaks, [job.id])
    view = await queue.job(job.id)
    assert view.state == "sent" and view.fallbacks == 1, view
    broken, sent = view.history
    assert (broken.transport, broken.pages, broken.t30_code) == ("t38", 0, T30Error.T1_EXPIRED)
    [retry] = await _events_of(lines, "fax.send_retry", job.id)
    assert str(retry["reason"]).endswith("the T.38 negotiation failed: trying again in G.711")
    assert (sent.transport, sent.outcome, sent.bit_rate) == ("audio", "sent", 14400)
    # A different line sending to the same number learned nothing (lines are isolated).
    [other] = await service.submit(SendRequest(line=OTHER_LINE, to=["+33987654321"],
                                               files=[letter], quality=Quality.NORMAL))
    [again] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                               files=[letter], quality=Quality.NORMAL))
    await _run_until_finished(queue, _loopback(received), [other.id, again.id])
    assert [a.transport for a in (await queue.job(again.id)).history] == ["audio"]
    assert [a.transport for a in (await queue.job(other.id)).history] == ["t38"]
