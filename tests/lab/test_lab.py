"""The real lab: PBX and ATA Asterisk 22 in the sid chroot (root only).

The PBX runs faxcore's own rendered configuration; the ATA registers to it
with the line's stored HA1. Calls from the ATA enter the Stasis contract; no
``faxcore serve`` runs here, so every outgoing ATA call must come back as a
real failure with its outcome parsed.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from faxcore.asterisk.sync import configured_target, sync_asterisk
from faxcore.cli import main
from faxcore.lab.instance import processes_in
from faxcore.lab.lab import Lab
from faxcore.lab.settings import lab_settings
from faxcore.lab.state import read_state
from faxcore.lab.stations import Ata, to_fax_tiff
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from tests.calls.test_serve_lab import wait_for
from tests.lab_fixtures import LAB_LINE, lab_environ, require_root

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def one_page_pdf(path: Path) -> Path:
    subprocess.run(
        ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", f"-sOutputFile={path}",
         "-c", "/Helvetica findfont 30 scalefont setfont 100 600 moveto "
               "(faxcore lab page) show showpage"],
        check=True, capture_output=True, timeout=60,
    )
    return path


def test_up_is_idempotent(lab: Lab) -> None:
    before = read_state(lab.config)
    status = asyncio.run(lab.up())
    after = read_state(lab.config)
    assert before is not None and after is not None
    assert (after.pbx_pid, after.ata_pid) == (before.pbx_pid, before.ata_pid)
    assert status.pbx_running and status.ata_running
    assert status.ata_line == LAB_LINE and status.ata_registered


async def test_a_pbx_backtrace_shows_every_thread_of_the_running_asterisk(lab: Lab) -> None:
    trace = await lab.pbx_backtrace()
    assert trace.count("\nThread ") >= 10, trace[-2000:]
    # Exported names resolve although the binary is stripped: the evidence of issue 21.
    assert "ast_" in trace or "__ao2" in trace, trace[-2000:]
    # The PBX goes on serving once gdb has let go of it.
    assert "Asterisk" in await lab.pbx.rx("core show version")


def test_ata_registers_as_the_line_with_its_stored_ha1(lab: Lab) -> None:
    contacts = asyncio.run(lab.pbx.rx("pjsip show contacts"))
    user = LAB_LINE[1:]
    assert f"{user}/sip:{user}@127.0.0.1:{lab_settings(lab.config).ata_sip_port}" in contacts
    registrations = asyncio.run(lab.ata.rx("pjsip show registrations"))
    assert "Registered" in registrations


def test_pbx_loads_faxcore_config_and_ari_answers(lab: Lab) -> None:
    endpoints = asyncio.run(lab.pbx.rx("pjsip show endpoints"))
    assert LAB_LINE[1:] in endpoints
    dialplan = asyncio.run(lab.pbx.rx("dialplan show faxcore-from-line"))
    app = lab.config.asterisk.app
    assert f"Stasis({app},from-line,${{FAXCORE_LINE}},${{EXTEN}})" in dialplan


async def test_line_added_later_is_synced_into_the_running_pbx(lab: Lab) -> None:
    """The product finds the running lab through its entry point, as ``faxcore line add`` does."""
    config = lab.config
    async with Database(config.database_url) as db:
        await LineService(db).add("+33972100002", "Second-line-7")
        result = await sync_asterisk(db, configured_target(config))
    assert result.ok, result.warnings
    assert "res_pjsip.so" in result.reloaded
    assert result.config_dir == str(lab.pbx.config_dir)
    endpoints = await lab.pbx.rx("pjsip show endpoints")
    assert "33972100002" in endpoints and LAB_LINE[1:] in endpoints
    # The ATA stayed registered across the reload.
    assert await lab.ata_registered()


async def test_ata_call_to_unknown_number_fails_with_a_reason(lab: Lab) -> None:
    outcome = await Ata(lab.config).call("+33999999999", seconds=1)
    assert not outcome.answered
    assert outcome.reason in ("failed", "congestion", "hangup", "busy")
    assert outcome.elapsed < 30


def test_send_fax_outcome_on_a_call_that_fails(lab: Lab, tmp_path: Path) -> None:
    pdf = one_page_pdf(tmp_path / "page.pdf")
    result = CliRunner().invoke(
        main, ["lab", "ata", "send-fax", "--to", "+33999999998", str(pdf), "--json"],
        env=lab_environ(lab.config.data_dir), catch_exceptions=False,
    )
    assert result.exit_code == 2, result.output
    assert '"answered": false' in result.output
    leftovers = list(lab.chroot.host_path("/var/lib/faxcore-lab/ata/tx").iterdir())
    assert leftovers == []


@pytest.mark.parametrize(("mode", "faxmode"), [("t38", "T38"), ("g711", "audio")])
async def test_ata_receives_a_fax_from_the_pbx(
    lab: Lab, tmp_path: Path, mode: str, faxmode: str
) -> None:
    ata = Ata(lab.config)
    out = tmp_path / "received"
    await ata.receive_fax(out, mode=mode, answer="on")
    tiff = lab.chroot.host_path("/var/lib/faxcore-lab/pbx/test-page.tif")
    await to_fax_tiff(one_page_pdf(tmp_path / "page.pdf"), tiff)
    try:
        await lab.pbx.rx(f"channel originate PJSIP/{LAB_LINE[1:]} application SendFax "
                         "/var/lib/faxcore-lab/pbx/test-page.tif,f")
        outcome = await ata.wait_received(out, set(), timeout=90)
    finally:
        tiff.unlink(missing_ok=True)
    assert outcome.answered
    assert outcome.fax["FAXSTATUS"] == "SUCCESS", outcome
    assert outcome.fax["FAXMODE"] == faxmode
    assert outcome.fax["FAXPAGES"] == "1"
    assert Path(outcome.fax["FAXFILE"]).stat().st_size > 0


def logged_since(log: Path, offset: int) -> str:
    """What Asterisk wrote to ``log`` after ``offset``: this test's lines, not older ones."""
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


async def test_ata_busy_refuses_incoming_calls(lab: Lab, tmp_path: Path) -> None:
    ata = Ata(lab.config)
    await ata.receive_fax(tmp_path / "rx", answer="busy")
    log = lab.chroot.host_path("/var/log/faxcore-lab/ata/messages.log")
    offset = log.stat().st_size
    try:
        await lab.pbx.rx(f"channel originate PJSIP/{LAB_LINE[1:]} application Wait 1")
        await wait_for(lambda: _contains(log, offset, "Busy("), 15, "the ATA's Busy()")
        assert list((tmp_path / "rx").glob("*.vars")) == []
    finally:
        await ata.receive_fax(tmp_path / "rx", answer="on")


def test_lab_status_json(lab: Lab) -> None:
    result = CliRunner().invoke(main, ["lab", "status", "--json"],
                                env=lab_environ(lab.config.data_dir), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert '"ata_registered": true' in result.output
    assert f'"{LAB_LINE}"' in result.output


@pytest.mark.parametrize("kwargs", [{"anonymous": True}, {"caller_id": "+33555000111"}])
async def test_pbx_identifies_the_line_whatever_caller_id_the_ata_presents(
    lab: Lab, kwargs: dict[str, object]
) -> None:
    number = "+3310000" + ("0001" if "anonymous" in kwargs else "0002")
    log = lab.chroot.host_path("/var/log/faxcore-lab/pbx/messages.log")
    offset = log.stat().st_size
    await Ata(lab.config).call(number, seconds=1, **kwargs)  # type: ignore[arg-type]
    # The Stasis arguments name the authenticated line, never the presented caller id.
    arguments = f'"{lab.config.asterisk.app},from-line,{LAB_LINE},{number}"'
    await wait_for(lambda: _contains(log, offset, arguments), 15, "this call's Stasis()")


async def _contains(log: Path, offset: int, text: str) -> bool:
    return text in logged_since(log, offset)


def test_zz_down_leaves_no_process_and_no_mount_then_up_again_with_empty_logs(
        lab: Lab) -> None:
    """Runs last in this module; brings the lab back for later modules."""
    stale = "STALE LINE FROM AN EARLIER RUN"
    logs = [lab.chroot.host_path(f"/var/log/faxcore-lab/{name}/messages.log")
            for name in ("pbx", "ata", "carrier")]
    for log in logs:
        with log.open("a") as file:
            file.write(f"{stale}\n")
    asyncio.run(lab.down())
    # A call file left in a station's spool (a run killed mid-call) is never dialled.
    left = [lab.chroot.host_path(f"{instance.spool}/outgoing/left-over.call")
            for instance in (lab.ata, lab.carrier)]
    for call_file in left:
        call_file.write_text("Channel: PJSIP/+33972100001@pbx\nApplication: Wait\nData: 60\n")
    assert processes_in(lab.chroot.path) == []
    mounts = Path("/proc/mounts").read_text()
    assert str(lab.chroot.path) not in mounts
    assert read_state(lab.config) is None
    assert asyncio.run(lab.down()) == []  # idempotent
    status = asyncio.run(lab.up(line=LAB_LINE))
    assert status.ata_registered and status.carrier_running
    assert all(stale not in log.read_text() for log in logs)
    assert not any(call_file.exists() for call_file in left)


def test_cli_errors_when_lab_not_running(tmp_path: Path) -> None:
    require_root()
    result = CliRunner().invoke(main, ["lab", "ata", "call", "--to", "+33100000000"],
                                env=lab_environ(tmp_path / "nolab"))
    assert result.exit_code == 1
    assert "the lab is not running" in result.output

