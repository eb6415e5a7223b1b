"""The send worker end to end over real spandsp: claimed jobs are transmitted and settled.

The far end is a receiving ``FaxSession`` wired back to back in this process
(``faxcore.fax.loopback``), real T.30 over T.38 without a call; the call
path is covered by the lab tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from faxcore.documents.tiff import read_tiff
from faxcore.fax.loopback import transfer
from faxcore.fax.options import Direction, FaxSessionOptions, SessionWire
from faxcore.fax.session import FaxSession
from faxcore.send import AttemptResult, Claim, RetryPolicy, SendQueue, SendRequest, SendService
from faxcore.send.outcome import attempt_result, transmit_options
from faxcore.send.worker import SendWorker, Transmit
from faxcore.storage.db import Database
from tests.send.conftest import FAX_LINE


def _loopback(received: Path) -> Transmit:
    async def transmit(claim: Claim) -> AttemptResult:
        def run() -> AttemptResult:
            rx_options = FaxSessionOptions(direction=Direction.RECEIVE, wire=SessionWire.T38,
                                           file=received / f"{claim.job_id}.tif",
                                           local_ident="REMOTE CSI")
            with (FaxSession(transmit_options(claim, SessionWire.T38), 0.0) as tx,
                  FaxSession(rx_options, 0.0) as rx):
                transfer(tx, rx)
                assert tx.result is not None
                return attempt_result(tx.result, SessionWire.T38)
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
        got = read_tiff(received / f"{job.id}.tif")
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
