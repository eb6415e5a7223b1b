"""Submitting faxes: refusals leave nothing behind; one conversion for every number."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from faxcore.documents import Quality
from faxcore.documents.tiff import read_tiff
from faxcore.lines.service import LineService
from faxcore.send import SendRefused, SendRequest, SendService
from faxcore.storage.db import Database
from faxcore.storage.models import SendJob, utcnow
from tests.send.conftest import FAX_LINE, VOICEMAIL_LINE


async def _count(db: Database) -> int:
    async with db.session(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(SendJob)) or 0)


@pytest.mark.parametrize(("line", "to", "doc", "message"), [
    ("+33199999999", ["+33987654321"], "letter", "line +33199999999 does not exist"),
    (VOICEMAIL_LINE, ["+33987654321"], "letter", "answering-machine mode"),
    (FAX_LINE, ["0123456789"], "letter", "international format"),
    (FAX_LINE, ["+33987654321", "+33 12"], "letter", "8 to 15 digits"),
    (FAX_LINE, [], "letter", "no recipient"),
    (FAX_LINE, ["+33987654321"], "missing", "no such file"),
    (FAX_LINE, ["+33987654321"], "garbage", "document refused"),
])
async def test_refused_at_once_and_nothing_queued(
        lines: Database, tmp_path: Path, letter: Path, line: str, to: list[str], doc: str,
        message: str) -> None:
    garbage = tmp_path / "broken.pdf"
    garbage.write_bytes(b"%PDF-1.4\n this is no PDF at all")
    files = {"letter": letter, "missing": tmp_path / "nope.pdf", "garbage": garbage}[doc]
    spool = tmp_path / "spool"
    with pytest.raises(SendRefused, match=re.escape(message)):
        await SendService(lines, spool).submit(SendRequest(line=line, to=to, files=[files]))
    assert await _count(lines) == 0
    assert not spool.exists() or not any(spool.iterdir())


async def test_a_number_that_is_no_line_is_refused_when_no_trunk_is_configured(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    spool = tmp_path / "spool"
    service = SendService(lines, spool, has_trunk=False)
    with pytest.raises(SendRefused, match=re.escape(
            "no route to +33987654321: not a faxcore line, and no outbound trunk")):
        await service.submit(SendRequest(line=FAX_LINE, to=[VOICEMAIL_LINE, "+33987654321"],
                                         files=[letter]))
    assert await _count(lines) == 0
    [job] = await service.submit(SendRequest(line=FAX_LINE, to=[VOICEMAIL_LINE], files=[letter]))
    assert job.to == VOICEMAIL_LINE  # faxcore lines need no trunk


async def test_several_numbers_share_one_conversion(lines: Database, tmp_path: Path,
                                                    letter: Path) -> None:
    at = utcnow() + timedelta(hours=1)
    jobs = await SendService(lines, tmp_path / "spool", max_attempts=5).submit(SendRequest(
        line=FAX_LINE, to=["+33987654321", "0033 9 87 65 43 22", "+33987654321"],
        files=[letter, letter], quality=Quality.PREMIUM, not_before=at))
    assert [j.to for j in jobs] == ["+33987654321", "+33987654322"]
    assert {j.state for j in jobs} == {"queued"} and {j.max_attempts for j in jobs} == {5}
    assert all(j.next_attempt_at == at for j in jobs) and len({j.batch for j in jobs}) == 1
    [tiff] = list((tmp_path / "spool").iterdir())
    pages = read_tiff(tiff)
    assert len(pages) == jobs[0].pages == 2
    assert {round(p.y_dpi) for p in pages} == {391}


async def test_the_queued_document_is_private_whatever_the_umask_and_flushed_to_disk(
        lines: Database, tmp_path: Path, letter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake only for what no real part shows here, a power cut: every fsync is
    recorded with the file it flushed."""
    flushed: list[str] = []
    real_fsync = os.fsync

    def recorded_fsync(fd: int) -> None:
        real_fsync(fd)
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    os.umask(0o022)
    spool = tmp_path / "spool"
    [job] = await SendService(lines, spool).submit(
        SendRequest(line=FAX_LINE, to=["+33987654321"], files=[letter]))
    [document] = list(spool.iterdir())
    assert str(document) in flushed and str(spool) in flushed
    assert oct(document.stat().st_mode & 0o777) == "0o600"
    assert oct(spool.stat().st_mode & 0o777) == "0o700"
    assert job.state == "queued"


async def test_a_line_s_own_quality_attempts_and_transmit_identity_apply_unless_the_send_says(
        lines: Database, tmp_path: Path, letter: Path) -> None:
    """Issue 13 item 3: S2 default quality, S4 attempts and S3 TSI per line."""
    await LineService(lines).set(FAX_LINE, send_quality="normal", send_max_attempts="5",
                                 station_id="CSI RECEIVES", tsi="TSI SENDS")
    service = SendService(lines, tmp_path / "spool", max_attempts=3)
    [default] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                                 files=[letter]))
    [chosen] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                                files=[letter], quality=Quality.PREMIUM))
    assert (default.quality, default.max_attempts) == ("normal", 5)
    assert (chosen.quality, chosen.max_attempts) == ("premium", 5)
    async with lines.session(read_only=True) as session:
        assert set(await session.scalars(select(SendJob.tsi))) == {"TSI SENDS"}
    await LineService(lines).set(FAX_LINE, send_max_attempts="", tsi="")
    [configured] = await service.submit(SendRequest(line=FAX_LINE, to=["+33987654321"],
                                                    files=[letter]))
    assert configured.max_attempts == 3
    async with lines.session(read_only=True) as session:
        job = await session.get(SendJob, configured.id)
        assert job is not None and job.tsi == "CSI RECEIVES"  # no TSI: the station id
