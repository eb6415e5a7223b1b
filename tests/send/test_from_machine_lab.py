"""The line's fax machine faxes out (issue 13 item 2): store and forward through the trunk.

The ATA dials a number behind the lab's carrier; faxcore takes the fax from it
(T.38 through the gateway, or G.711), queues it as the line's send job and
sends it over the trunk to the carrier's fax machine, with the line's TSI and
header; the transmission report goes to the line's address by e-mail. What
may not go is refused before answer, with nothing queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from faxcore.config import FaxcoreConfig, NotifyConfig, SmtpConfig
from faxcore.domain import CallDisposition
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata, Carrier
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.send import JobView
from faxcore.send import wiring as send_wiring
from faxcore.storage.db import Database
from tests.calls.test_serve_lab import entries, serving, wait_for
from tests.lab_fixtures import LAB_LINE
from tests.notify.conftest import SmtpServer, smtp_server
from tests.send.test_send_lab import FAST

pytestmark = [pytest.mark.lab, pytest.mark.slow]

__all__ = ["smtp_server"]  # the fixture, used by name

TSI = "FAXCORE MACHINE"
HEADER = "Cabinet Martin"
REPORTS = "secretariat@example.com"


@pytest.fixture
async def machine_line(lab: Lab, lab_database: FaxcoreConfig, smtp_server: SmtpServer
                       ) -> AsyncIterator[FaxcoreConfig]:
    """The lab line in fax mode with its TSI, header and report address; mail goes out."""
    async with Database(lab_database.database_url) as db:
        await LineService(db).set(LAB_LINE, mode="fax", station_id=TSI, header=HEADER,
                                  language="en")
        await NotifyService(db).add(LAB_LINE, REPORTS, "fax")
    # Two jobs of the line at once: both faxes go out together.
    config = replace(lab_database,
                     send=replace(lab_database.send, **FAST, max_per_line=2),  # type: ignore[arg-type]
                     smtp=SmtpConfig(url=smtp_server.url, timeout=10.0,
                                     from_address="fax@example.net"),
                     notify=NotifyConfig(poll_interval=0.1, retry_initial=0.5, retry_max=2.0))
    yield config
    async with Database(lab_database.database_url) as db:
        await NotifyService(db).remove(LAB_LINE, REPORTS)


async def _jobs(config: FaxcoreConfig) -> list[JobView]:
    """The line's jobs, each with its attempts."""
    async with Database(config.database_url) as db:
        queue = send_wiring.queue(config, db)
        return [await queue.job(job.id) for job in await queue.jobs(LAB_LINE)]


def _report_mails(server: SmtpServer, to: str) -> list[EmailMessage]:
    return [m for m in server.mailbox.snapshot()
            if m["To"] == REPORTS and to in str(m.get("Subject", "")) + m.as_string()]


async def test_the_fax_machine_faxes_a_number_behind_the_carrier_store_and_forward(
        machine_line: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path) -> None:
    document = tmp_path / "three-pages.tif"
    write_synthetic_document(document, 3)
    out = tmp_path / "remote"
    await Carrier(machine_line).receive_fax(out, mode="t38", answer="on")
    before = {job.id for job in await _jobs(machine_line)}
    # Dialled as a French fax machine dials: national, and international with 00.
    dialled = {"t38": "0140000071", "g711": "0033140000072"}
    async with serving(machine_line) as served:
        ata = Ata(served)
        t38, g711 = await asyncio.gather(
            ata.send_fax(dialled["t38"], document, mode="t38", station_id="MACHINE T38"),
            ata.send_fax(dialled["g711"], document, mode="g711", station_id="MACHINE G711"))
        assert t38.fax_ok and g711.fax_ok, (t38, g711)
        assert t38.fax.get("FAXMODE") == "T38" and g711.fax.get("FAXMODE") == "audio"
        # The machine's fax was answered with the line's own identity.
        assert t38.fax.get("REMOTESTATIONID") == TSI

        async def both_sent() -> bool:
            jobs = [j for j in await _jobs(served) if j.id not in before]
            return len(jobs) == 2 and all(j.state == "sent" for j in jobs)

        await wait_for(both_sent, 240, "both jobs to be sent through the trunk")

        async def reports() -> bool:
            return all(_report_mails(smtp_server, n) for n in ("+33140000071", "+33140000072"))

        await wait_for(reports, 30, "the transmission reports by e-mail")
    jobs = {j.to: j for j in await _jobs(machine_line) if j.id not in before}
    assert set(jobs) == {"+33140000071", "+33140000072"}
    for job in jobs.values():
        assert job.pages == 3 and job.line == LAB_LINE, job
        [attempt] = job.history
        assert attempt.outcome == "sent" and attempt.pages == 3, attempt
    carrier, seen = Carrier(machine_line), set[str]()
    remote = [await carrier.wait_received(out, seen, 5) for _ in range(2)]
    for outcome in remote:
        # The remote machine got 3 pages from the line's identity (TSI).
        assert outcome.fax_ok, outcome
        assert outcome.fax.get("FAXPAGES") == "3" and outcome.fax.get("REMOTESTATIONID") == TSI
    logged = [e for e in await entries(machine_line) if e.called in dialled.values()]
    assert {(e.direction, e.disposition) for e in logged} == {("out", CallDisposition.ANSWERED)}


async def test_the_fax_machine_s_fax_to_a_busy_remote_is_retried_and_delivered(
        machine_line: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    out = tmp_path / "remote"
    carrier = Carrier(machine_line)
    await carrier.receive_fax(out, mode="g711", answer="busy")
    before = {job.id for job in await _jobs(machine_line)}
    try:
        async with serving(machine_line) as served:
            sent = await Ata(served).send_fax("0140000073", document, mode="g711")
            assert sent.fax_ok, sent  # stored: the machine is done, faxcore goes on

            async def first_attempt_busy() -> bool:
                jobs = [j for j in await _jobs(served) if j.id not in before]
                return bool(jobs) and jobs[0].attempts == 1 and jobs[0].state == "queued"

            await wait_for(first_attempt_busy, 60, "a first attempt that meets a busy line")
            await carrier.receive_fax(out, mode="g711", answer="on")

            async def delivered() -> bool:
                jobs = [j for j in await _jobs(served) if j.id not in before]
                return jobs[0].state not in ("queued", "sending")

            await wait_for(delivered, 150, "the second attempt to end")
            await wait_for(lambda: _has_report(smtp_server, "+33140000073"), 30,
                           "the transmission report by e-mail")
    finally:
        await carrier.receive_fax(out, mode="t38", answer="on")
    [job] = [j for j in await _jobs(machine_line) if j.id not in before]
    assert job.state == "sent" and job.to == "+33140000073", job
    first, second = job.history
    assert first.outcome == "failed" and first.q850_cause == 17 and "busy" in first.reason
    assert second.outcome == "sent" and second.pages == 1 and second.transport == "audio"
    remote = await carrier.wait_received(out, set(), 5)
    assert remote.fax_ok and remote.fax.get("REMOTESTATIONID") == TSI, remote


async def _has_report(server: SmtpServer, to: str) -> bool:
    return bool(_report_mails(server, to))


async def test_what_may_not_go_out_is_refused_before_answer_and_nothing_is_queued(
        machine_line: FaxcoreConfig, tmp_path: Path) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    config = replace(machine_line, send=replace(machine_line.send,
                                                barred_prefixes="+3314000009"))
    before_jobs = {job.id for job in await _jobs(config)}
    async with serving(config) as served:
        before = len(await entries(served))
        ata = Ata(served)
        async with Database(served.database_url) as db:
            await LineService(db).set(LAB_LINE, mode="voicemail")
        voicemail = await ata.send_fax("0140000071", document, mode="g711")
        async with Database(served.database_url) as db:
            await LineService(db).set(LAB_LINE, mode="fax")
        premium = await ata.send_fax("0899123456", document, mode="g711")
        impossible = await ata.send_fax("12345", document, mode="g711")
        barred = await ata.send_fax("0140000091", document, mode="t38")
        logged = (await entries(served))[before:]
    assert not any(o.answered for o in (voicemail, premium, impossible, barred))
    assert [(e.called, e.direction, e.disposition, e.cause) for e in logged] == [
        ("0140000071", "out", CallDisposition.REJECTED_OUTBOUND, 21),
        ("0899123456", "out", CallDisposition.REJECTED_OUTBOUND, 21),
        ("12345", "out", CallDisposition.REJECTED_OUTBOUND, 28),
        ("0140000091", "out", CallDisposition.REJECTED_OUTBOUND, 21)]
    assert "answering-machine mode" in logged[0].detail
    assert "+33899123456 is a premium-rate number" in logged[1].detail
    assert "+33140000091 is barred by the operator" in logged[3].detail
    assert {job.id for job in await _jobs(config)} == before_jobs
