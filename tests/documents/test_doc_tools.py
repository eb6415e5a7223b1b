"""The one subprocess runner: timeouts, exit codes, missing programs; command lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from faxcore.documents.errors import ConversionError, ConversionTimeoutError, ToolMissingError
from faxcore.documents.model import Compression, DocumentLimits, PageGeometry, Paper, Quality
from faxcore.documents.tools import gs_fax_argv, run_tool, soffice_argv

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
