"""External converters: Ghostscript, LibreOffice, rsvg-convert.

Command lines are built by pure functions (tested as lists); ``run_tool`` is
the one place that starts a process: with a timeout, a checked exit code,
the process killed and reaped on timeout or cancellation, and stderr sent to
the log (never to the subscriber).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from faxcore.documents.errors import ConversionError, ConversionTimeoutError, ToolMissingError
from faxcore.documents.model import BYTES_PER_ROW, Compression, PageGeometry

log = logging.getLogger(__name__)

GS = "gs"
SOFFICE = "soffice"
RSVG = "rsvg-convert"


async def run_tool(argv: Sequence[str], *, timeout: float, what: str) -> bytes:
    """Run ``argv``; its stdout, or ``ConversionError`` saying ``what`` failed."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True)  # its own process group: soffice forks soffice.bin
    except FileNotFoundError as exc:
        raise ToolMissingError(f"{what}: the converter {argv[0]} is not installed") from exc
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError as exc:
        log.warning("%s: %s killed after %g s", what, argv[0], timeout)
        raise ConversionTimeoutError(
            f"{what}: the conversion took longer than {timeout:g} s and was stopped") from exc
    finally:
        if proc.returncode is None:
            # Kill the whole group, or a forked child keeps running and holds the pipes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.shield(proc.wait())
    if stderr:
        log.debug("%s: %s stderr: %s", what, argv[0], stderr.decode(errors="replace").strip())
    if proc.returncode != 0:
        log.warning("%s: %s exited with %s: %s", what, argv[0], proc.returncode,
                    stderr.decode(errors="replace").strip())
        raise ConversionError(f"{what}: the document could not be converted")
    return stdout


def gs_base(geometry: PageGeometry, fit: str) -> list[str]:
    """Options shared by every Ghostscript rendering onto the content area."""
    return [
        GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE",
        f"-r{geometry.x_dpi}x{geometry.y_dpi}",
        f"-g{geometry.width}x{geometry.content_rows}",
        "-dFIXEDMEDIA", fit,
    ]


def _fit_option(source_is_pdf: bool) -> str:
    return "-dPDFFitPage" if source_is_pdf else "-dPSFitPage"


def gs_fax_argv(source: Path, out: Path, geometry: PageGeometry, compression: Compression,
                source_is_pdf: bool = True) -> list[str]:
    """Render ``source`` to 1-bit coded strips of the header band's height."""
    device = "tiffg4" if compression is Compression.G4 else "tiffg3"
    return [
        *gs_base(geometry, _fit_option(source_is_pdf)),
        f"-sDEVICE={device}",
        f"-dMaxStripSize={geometry.strip_rows * BYTES_PER_ROW}",
        f"-sOutputFile={out}", str(source),
    ]


def gs_gray_argv(source: Path, pattern: Path, geometry: PageGeometry,
                 source_is_pdf: bool = True) -> list[str]:
    """Render ``source`` to 8-bit grayscale PGM pages (``pattern`` holds ``%05d``)."""
    return [
        *gs_base(geometry, _fit_option(source_is_pdf)),
        "-sDEVICE=pgmraw", "-dTextAlphaBits=1", "-dGraphicsAlphaBits=1",
        f"-sOutputFile={pattern}", str(source),
    ]


def soffice_argv(sources: Sequence[Path], outdir: Path, profile: Path) -> list[str]:
    """One LibreOffice run converting every office file to PDF, in a private profile."""
    return [
        SOFFICE, f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
        "--convert-to", "pdf", "--outdir", str(outdir), *map(str, sources),
    ]


def rsvg_argv(source: Path, out: Path) -> list[str]:
    """SVG to PDF with librsvg (vector, so Ghostscript rasterises it at fax resolution)."""
    return [RSVG, "--format=pdf", f"--output={out}", str(source)]
