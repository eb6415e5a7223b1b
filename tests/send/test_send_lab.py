"""Sending faxes through the real lab: ``faxcore serve`` dials the ATA's line and sends.

The ATA (a second Asterisk with res_fax_spandsp) is the recipient's fax
machine: it receives in T.38 or G.711, answers busy, or never answers, as set with
``Ata.receive_fax``. Retries are shortened by configuration (S4 spacing of
seconds instead of minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from faxcore.asterisk.render import TRUNKS_FILE
from faxcore.asterisk.sync import reload_modules
from faxcore.config import FaxcoreConfig
from faxcore.documents import Quality
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config, read_state
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.send import JobView, SendRequest
from faxcore.send import wiring as send_wiring
from faxcore.send.states import OPEN_STATES
from faxcore.storage.db import Database
from faxcore.storage.models import utcnow
from tests.calls.test_serve_lab import serve_process, serving, wait_for
from tests.lab_fixtures import LAB_LINE
from tests.reception.test_reception_lab import assert_same_pages

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# The lease stays long enough for a loaded machine (a 6 s one was once lost
# mid-fax: a renewal 4 s late); the kill test sets its own short lease.
FAST = {"retry_initial": 2.0, "retry_max": 8.0, "poll_interval": 0.2, "lease": 30.0,
        "ring_timeout": 4}


@pytest.fixture
async def sender(lab: Lab, lab_database: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """The lab line in fax mode, the send timings shortened; open jobs cancelled after.

    Every send lab test runs on SQLite and on PostgreSQL.

    The lab's database is shared by the session: a job left queued by a
    failed test would be dialled by the next test's ``faxcore serve``.
    """
    async with Database(lab_database.database_url) as db:
        await LineService(db).set(LAB_LINE, mode="fax", station_id="FAXCORE SENDER")
    yield replace(lab_database, send=replace(lab_database.send, **FAST))  # type: ignore[arg-type]
    async with Database(lab_database.database_url) as db:
        queue = send_wiring.queue(lab_database, db)
        for job in await queue.jobs(LAB_LINE):
            if job.state in OPEN_STATES:
                await queue.cancel(job.id)


@pytest.fixture
def two_pages(tmp_path: Path) -> Path:
    """A one-page text, sent twice in one fax: two pages."""
    path = tmp_path / "page.txt"
    path.write_text("faxcore sends this page twice\n")
    return path


async def _submit(config: FaxcoreConfig, doc: Path, to: str = LAB_LINE,
                  **kw: object) -> JobView:
    async with Database(config.database_url) as db:
        [job] = await send_wiring.service(config, db).submit(SendRequest(
            line=LAB_LINE, to=[to], files=[doc, doc], quality=Quality.NORMAL,
            **kw))  # type: ignore[arg-type]
    # The spool file goes once the job is finished: keep what was sent to compare.
    shutil.copyfile(_spooled(job, config), job_document(job, config))
    return job


async def _job(config: FaxcoreConfig, job_id: int) -> JobView:
    async with Database(config.database_url) as db:
        return await send_wiring.queue(config, db).job(job_id)


async def _until(config: FaxcoreConfig, job_id: int, timeout: float, what: str,
                 check: object) -> JobView:
    async def done() -> bool:
        return bool(check(await _job(config, job_id)))  # type: ignore[operator]
    await wait_for(done, timeout, what)
    return await _job(config, job_id)


def _finished(job: JobView) -> bool:
    return job.state in {"sent", "failed", "cancelled"}


async def test_deferred_two_page_fax_reaches_the_ata_page_for_page(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "ata"
    await Ata(sender).receive_fax(out, mode="t38", answer="on")
    async with serving(sender):
        # serve is ready and polls every 0.2 s: a job due now would be dialled at once.
        at = utcnow() + timedelta(seconds=8)
        job = await _submit(sender, two_pages, not_before=at)
        job = await _until(sender, job.id, 150, "the job to finish", _finished)
    assert job.state == "sent", job.reason
    [attempt] = job.history
    assert attempt.started_at >= at  # S5: not dialled before its time, however loaded
    assert attempt.outcome == "sent" and attempt.pages == 2 and attempt.bit_rate
    assert attempt.transport == "t38"  # the receiver re-invited to T.38
    [received] = sorted(out.glob("rx-*.tif"))
    assert_same_pages(received, Path(job_document(job, sender)))
    assert not _spooled(job, sender).exists()  # removed once the job is finished


async def test_a_g711_only_receiver_gets_the_fax_in_audio_page_for_page(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "ata"
    await Ata(sender).receive_fax(out, mode="g711", answer="on")  # never offers T.38
    job = await _submit(sender, two_pages)
    async with serving(sender):
        job = await _until(sender, job.id, 150, "the job to finish", _finished)
    assert job.state == "sent", job.reason
    [attempt] = job.history
    assert attempt.outcome == "sent" and attempt.pages == 2 and attempt.bit_rate
    assert attempt.transport == "audio"
    [received] = sorted(out.glob("rx-*.tif"))
    assert_same_pages(received, Path(job_document(job, sender)))


def _spooled(job: JobView, config: FaxcoreConfig) -> Path:
    return send_wiring.spool_dir(config) / f"{job.batch}.tif"


def job_document(job: JobView, config: FaxcoreConfig) -> str:
    """A copy of the document as converted for sending, taken at submission."""
    return str(send_wiring.spool_dir(config) / f"{job.batch}.sent-copy.tif")


async def test_busy_first_then_answering_takes_two_attempts(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    ata = Ata(sender)
    await ata.receive_fax(tmp_path / "ata", mode="t38", answer="busy")
    job = await _submit(sender, two_pages)
    async with serving(sender):
        await _until(sender, job.id, 60, "a first failed attempt",
                     lambda j: j.attempts == 1 and j.state == "queued")
        await ata.receive_fax(tmp_path / "ata", mode="t38", answer="on")
        job = await _until(sender, job.id, 150, "the job to finish", _finished)
    assert job.state == "sent", job.reason
    first, second = job.history
    assert first.outcome == "failed" and first.q850_cause == 17 and "busy" in first.reason
    assert second.outcome == "sent" and second.pages == 2


async def test_never_answering_fails_after_max_attempts_spaced_by_the_policy(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    await Ata(sender).receive_fax(tmp_path / "ata", mode="t38", answer="noanswer")
    job = await _submit(sender, two_pages)
    try:
        async with serving(sender):
            job = await _until(sender, job.id, 120, "the job to fail", _finished)
    finally:
        await Ata(sender).receive_fax(tmp_path / "ata", mode="t38", answer="on")
    assert job.state == "failed" and job.attempts == 3
    assert "after 3 attempts" in job.reason
    assert [a.outcome for a in job.history] == ["failed"] * 3
    policy = send_wiring.policy(sender)
    for n, (a, b) in enumerate(zip(job.history, job.history[1:], strict=False), start=1):
        assert a.ended_at is not None and b.started_at - a.ended_at >= policy.delay(n)


async def test_faxcore_killed_mid_send_is_interrupted_and_retried(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    await Ata(sender).receive_fax(tmp_path / "ata", mode="t38", answer="on")
    job = await _submit(sender, two_pages)
    settings = {"FAXCORE_SEND_LEASE": "6", "FAXCORE_SEND_RETRY_INITIAL": "2",
                "FAXCORE_SEND_POLL_INTERVAL": "0.2"}
    async with serve_process(sender, **settings) as first:
        await _until(sender, job.id, 60, "the first attempt", lambda j: j.state == "sending")
        await asyncio.sleep(4)  # the call is up, the fax under way
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        async with serve_process(sender, **settings):
            job = await _until(sender, job.id, 180, "the job to finish", _finished)
    assert job.state == "sent", job.reason
    assert [a.outcome for a in job.history] == ["interrupted", "sent"]


async def _ata_call_up(lab: Lab) -> bool:
    """The ATA has a call in state Up (it answered faxcore's call)."""
    return "!Up!" in await lab.ata.rx("core show channels concise")


async def test_a_fax_cancelled_mid_call_is_hung_up_at_once_and_not_retried(
        lab: Lab, sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    """S7: the subscriber cancels while the fax is being transmitted."""
    out = tmp_path / "ata"
    ata = Ata(sender)
    await ata.receive_fax(out, mode="t38", answer="on")
    job = await _submit(sender, two_pages)
    async with serving(sender), Database(sender.database_url) as db:
        await wait_for(lambda: _ata_call_up(lab), 60, "the ATA to answer faxcore's call")
        cancelled = await send_wiring.queue(sender, db).cancel(job.id)
        assert cancelled.state == "cancelled"
        ata_side = await ata.wait_received(out, set(), 30)
        job = await _until(sender, job.id, 30, "the attempt to be closed",
                           lambda j: j.history and j.history[-1].ended_at is not None)
    assert ata_side.answered and not ata_side.fax_ok, ata_side
    assert job.state == "cancelled" and job.attempts == 1, job
    [attempt] = job.history
    assert attempt.outcome == "cancelled", attempt
    assert cancelled.finished_at is not None and attempt.ended_at is not None
    # Hung up within the cancel check (1 s) and the hang-up, not after the two pages.
    assert attempt.ended_at - cancelled.finished_at < timedelta(seconds=10), attempt


@contextlib.asynccontextmanager
async def operator_trunk(config: FaxcoreConfig, name: str) -> AsyncIterator[None]:
    """A PJSIP trunk from the lab PBX to the ATA, written as an operator would.

    The ATA takes any call from the PBX's address as its own (it is the
    PSTN's far end here); the file is the operator's ``pjsip_trunks.conf``.
    """
    state = read_state(config)
    assert state is not None
    trunks = Path(state.pbx_config_dir) / TRUNKS_FILE
    trunks.write_text(
        f"[{name}]\ntype=aor\ncontact=sip:127.0.0.1:{state.ata_sip_port}\n\n"
        f"[{name}]\ntype=endpoint\ncontext={config.asterisk.inbound_context}\n"
        f"aors={name}\ndisallow=all\nallow=alaw,ulaw\nt38_udptl=yes\n"
        "t38_udptl_ec=redundancy\ndirect_media=no\n")
    pbx = lab_pbx_config(config)
    try:
        assert (await reload_modules(pbx, ["res_pjsip.so"]))[0] == ["res_pjsip.so"]
        yield
    finally:
        trunks.unlink()
        await reload_modules(pbx, ["res_pjsip.so"])


async def test_a_number_that_is_no_line_goes_out_through_the_operators_trunk(
        sender: FaxcoreConfig, two_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "pstn"
    await Ata(sender).receive_fax(out, mode="t38", answer="on")
    config = replace(sender, send=replace(sender.send,
                                          trunk_endpoint="PJSIP/{digits}@lab-trunk"))
    async with operator_trunk(config, "lab-trunk"):
        job = await _submit(config, two_pages, to="+33100000042")
        async with serving(config):
            job = await _until(config, job.id, 150, "the job to finish", _finished)
    assert job.state == "sent", job.reason
    [attempt] = job.history
    assert attempt.outcome == "sent" and attempt.pages == 2
    [received] = sorted(out.glob("rx-*.tif"))
    assert_same_pages(received, Path(job_document(job, config)))
