"""The one subprocess runner: timeouts, exit codes, missing programs; command lines."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from faxcore.documents.errors import ConversionError, ConversionTimeoutError, ToolMissingError
from faxcore.documents.model import Compression, DocumentLimits, PageGeometry, Paper, Quality
from faxcore.documents.tools import (
    confine_argv,
    gs_fax_argv,
    isolation_prefix,
    run_tool,
    soffice_argv,
    write_soffice_profile,
)

LIMITS = DocumentLimits(tool_timeout=5)


async def test_output_of_a_successful_run_is_returned(tmp_path: Path) -> None:
    assert await run_tool(["printf", "ok"], limits=LIMITS, what="x", cwd=tmp_path) == b"ok"


async def test_failure_is_reported_without_the_tools_stderr(tmp_path: Path) -> None:
    with pytest.raises(ConversionError) as info:
        await run_tool(["sh", "-c", "echo secret-detail >&2; exit 3"], limits=LIMITS,
                       what="a.pdf", cwd=tmp_path)
    assert str(info.value) == "a.pdf: the document could not be converted"


async def test_slow_tool_is_killed_at_the_timeout(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    start = time.monotonic()
    with pytest.raises(ConversionTimeoutError,
                       match=r"^a.doc: the conversion took longer than 0.3 s and was stopped$"):
        await run_tool(["sh", "-c", f"sleep 2; touch {marker}"],
                       limits=DocumentLimits(tool_timeout=0.3), what="a.doc", cwd=tmp_path)
    assert time.monotonic() - start < 1.5
    time.sleep(2.2)
    assert not marker.exists()


async def test_missing_program_is_named(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError,
                       match=r"^a.svg: the converter no-such-tool-xyz is not installed$"):
        await run_tool(["no-such-tool-xyz"], limits=LIMITS, what="a.svg", cwd=tmp_path)


def test_gs_renders_the_content_area_in_strips_of_the_band_height() -> None:
    geometry = PageGeometry(Quality.HIGH, Paper.A4, with_header=True)
    argv = gs_fax_argv(Path("in.pdf"), Path("out.tif"), geometry, Compression.G4)
    assert "-r204x196" in argv
    assert "-g1728x2257" in argv  # 2292 lines minus the 35-line header band
    assert "-dMaxStripSize=7560" in argv  # 35 rows of 216 bytes
    assert {"-dFIXEDMEDIA", "-dPDFFitPage", "-sDEVICE=tiffg4", "-dSAFER"} <= set(argv)


def test_soffice_uses_a_private_profile_per_conversion(tmp_path: Path) -> None:
    argv = soffice_argv([tmp_path / "a.docx"], tmp_path / "out", tmp_path / "profile")
    assert argv[1] == f"-env:UserInstallation=file://{tmp_path}/profile"
    assert argv[-1] == str(tmp_path / "a.docx")


def test_every_converter_runs_under_its_limits_and_dies_with_faxcore() -> None:
    limits = DocumentLimits(tool_cpu_seconds=7, tool_memory_mb=300, tool_file_mb=9)
    argv = confine_argv(["gs", "-q"], limits, ("unshare", "--net", "--"))
    assert argv == [
        "setpriv", "--pdeathsig", "KILL", "--",
        "prlimit", "--cpu=7", f"--as={300 * 1024 * 1024}", f"--fsize={9 * 1024 * 1024}",
        "--core=0", "--", "nice", "-n", "10", "unshare", "--net", "--", "gs", "-q"]


@pytest.mark.skipif(not isolation_prefix(), reason="this host does not permit unshare")
async def test_converter_cannot_reach_the_network(tmp_path: Path) -> None:
    """A converter cannot connect even to loopback: it has a network namespace of its own."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        server.settimeout(0.5)
        probe = (f"import socket; s = socket.socket(); s.settimeout(2); "
                 f"print(s.connect_ex(('127.0.0.1', {port})))")
        out = await run_tool([sys.executable, "-c", probe], limits=LIMITS, what="x", cwd=tmp_path)
        assert int(out) != 0
        with pytest.raises(TimeoutError):
            server.accept()


async def test_converter_sees_only_its_private_folder_as_home_and_tmp(tmp_path: Path) -> None:
    out = await run_tool(["sh", "-c", 'echo "$HOME $TMPDIR $(pwd) ${FAXCORE_CONFIG:-none}"'],
                         limits=LIMITS, what="x", cwd=tmp_path)
    assert out.decode().split() == [str(tmp_path)] * 3 + ["none"]


async def test_file_size_limit_stops_a_converter_writing_too_much(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match=r"^a.ps: the conversion needed more than the "
                                              r"allowed .* 1 MB per file, and was stopped$"):
        await run_tool(["sh", "-c", f"head -c 5000000 /dev/zero > {tmp_path}/big"],
                       limits=DocumentLimits(tool_file_mb=1), what="a.ps", cwd=tmp_path)
    assert (tmp_path / "big").stat().st_size <= 1024 * 1024


def test_soffice_profile_turns_off_macros_and_outside_links(tmp_path: Path) -> None:
    write_soffice_profile(tmp_path / "profile")
    xcu = (tmp_path / "profile" / "user" / "registrymodifications.xcu").read_text()
    assert '"DisableMacrosExecution" oor:op="fuse" oor:type="xs:boolean"><value>true' in xcu
    assert '"BlockUntrustedRefererLinks" oor:op="fuse" oor:type="xs:boolean"><value>true' in xcu
    assert (tmp_path / "profile" / "user").stat().st_mode & 0o777 == 0o700
