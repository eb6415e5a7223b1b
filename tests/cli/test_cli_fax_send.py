"""``faxcore fax send|jobs|cancel``: queue, list and cancel send jobs; refusals exit 1."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from faxcore.cli import main
from faxcore.config import FaxcoreConfig, load_config
from faxcore.lines.service import LineService
from faxcore.send import AttemptResult
from faxcore.send import wiring as send_wiring
from faxcore.send.failures import Failure, Source
from faxcore.spandsp import T30Error
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade

LINE = "+33100000001"


async def _line(config: FaxcoreConfig) -> None:
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        await LineService(db).add(LINE, sip_password="Secret-123")


def test_send_jobs_cancel(config: FaxcoreConfig, tmp_path: Path) -> None:
    asyncio.run(_line(config))
    doc = tmp_path / "note.txt"
    doc.write_text("hello fax\n")
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()
    no_route = runner.invoke(main, ["fax", "send", "--from", LINE, "--to", "+33987654321",
                                    str(doc)], env=env)
    assert no_route.exit_code == 1
    assert no_route.output.strip() == (
        "faxcore: error: no route to +33987654321: not a faxcore line, and no outbound "
        "trunk is configured (trunk.name or send.trunk_endpoint)")
    env["FAXCORE_SEND_TRUNK_ENDPOINT"] = "PJSIP/{digits}@trunk"
    sent = runner.invoke(main, ["fax", "send", "--from", LINE, "--to", "+33987654321",
                                "--to", "+33987654322", str(doc), "--quality", "normal",
                                "--at", "2030-01-02 03:04", "--json"], env=env)
    assert sent.exit_code == 0, sent.output
    jobs = json.loads(sent.output)["jobs"]
    assert [j["to"] for j in jobs] == ["+33987654321", "+33987654322"]
    expected = datetime(2030, 1, 2, 3, 4).astimezone()
    assert datetime.fromisoformat(jobs[0]["not_before"]) == expected

    listed = runner.invoke(main, ["fax", "jobs", "--line", LINE], env=env)
    assert listed.exit_code == 0 and listed.output.count("queued") == 2

    cancelled = runner.invoke(main, ["fax", "cancel", str(jobs[0]["id"])], env=env)
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.output
    again = runner.invoke(main, ["fax", "cancel", str(jobs[0]["id"])], env=env)
    assert again.exit_code == 1 and "already cancelled" in again.output


def test_send_refusal_is_one_clear_line(config: FaxcoreConfig, tmp_path: Path) -> None:
    asyncio.run(_line(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    result = CliRunner().invoke(main, ["fax", "send", "--from", LINE, "--to", "12345",
                                       str(tmp_path / "none.pdf")], env=env)
    assert result.exit_code == 1
    assert "international format" in result.output
    bad_at = CliRunner().invoke(main, ["fax", "send", "--from", LINE, "--to", "+33987654321",
                                       "--at", "tomorrow", str(tmp_path / "x")], env=env)
    assert bad_at.exit_code == 1 and "YYYY-MM-DD HH:MM" in bad_at.output


def test_postscript_page_loop_is_refused_within_the_configured_page_limit(
        config: FaxcoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-line PostScript that once wrote 78 GB: one error line in seconds, nothing kept."""
    asyncio.run(_line(config))
    loop = tmp_path / "loop.ps"
    loop.write_bytes(b"%!PS\n{ showpage } loop\n")
    env = {"FAXCORE_DATA_DIR": str(config.data_dir),
           "FAXCORE_SEND_TRUNK_ENDPOINT": "PJSIP/{digits}@trunk",
           "FAXCORE_DOCUMENTS_MAX_PAGES": "5"}
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    start = time.monotonic()
    result = CliRunner().invoke(main, ["fax", "send", "--from", LINE, "--to", "+33987654321",
                                       "--quality", "best", str(loop)], env=env)
    assert time.monotonic() - start < 20
    assert result.exit_code == 1
    assert result.output == (
        "faxcore: error: document refused: loop.ps: too many pages: the fax would have more "
        "than 5 pages, at most 5 are allowed\n")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((config.data_dir / "outgoing").iterdir()) == []


async def _refused_once_at_fine(config: FaxcoreConfig) -> None:
    """One attempt of the queued job, refused by a machine that does not take fine."""
    async with Database(config.database_url) as db:
        queue = send_wiring.queue(config, db)
        claim = await queue.claim("w1")
        assert claim is not None
        await queue.finish(claim, AttemptResult(Failure(Source.T30, T30Error.NORESSUPPORT),
                                                transport="t38", resolution="fine"))


def test_jobs_show_each_attempt_and_the_fallback_to_another_route(
        config: FaxcoreConfig, tmp_path: Path) -> None:
    asyncio.run(_line(config))
    doc = tmp_path / "note.txt"
    doc.write_text("hello fax\n")
    env = {"FAXCORE_DATA_DIR": str(config.data_dir),
           "FAXCORE_SEND_TRUNK_ENDPOINT": "PJSIP/{digits}@trunk"}
    runner = CliRunner()
    sent = runner.invoke(main, ["fax", "send", "--from", LINE, "--to", "+33987654321",
                                str(doc), "--quality", "high"], env=env)
    assert sent.exit_code == 0, sent.output
    asyncio.run(_refused_once_at_fine(load_config(environ=env)))
    listed = runner.invoke(main, ["fax", "jobs"], env=env)
    assert listed.exit_code == 0, listed.output
    job, attempt = listed.output.splitlines()
    assert "queued" in job and "attempts 0/3 (+1 on another route)" in job
    assert job.endswith("The called number cannot receive this fax. (t30 11); the receiving "
                        "machine does not accept fine resolution: sending at standard")
    assert attempt.split()[0] == "#1" and " failed " in attempt
    assert attempt.endswith("0p t38, fine  The called number cannot receive this fax. (t30 11)")
