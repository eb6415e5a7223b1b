"""External converters: Ghostscript, LibreOffice, rsvg-convert, the PDF probe.

Command lines are built by pure functions (tested as lists); ``run_tool`` is
the one place that starts a process. Every converter reads hostile input, so
each run is confined (``confine_argv``): CPU seconds, address space and the
size of any file it writes are capped by ``prlimit``; ``setpriv --pdeathsig``
kills it when faxcore dies; where the kernel lets us, ``unshare`` gives it no
network and its own PID namespace, so everything it forks (soffice forks
soffice.bin) dies with it. The run has a wall-clock timeout, an optional
``watch`` that can stop it early (page and disk limits while Ghostscript
writes), its process group killed and reaped on timeout, refusal or
cancellation, and stderr sent to the log (never to the subscriber).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from faxcore.documents.errors import ConversionError, ConversionTimeoutError, ToolMissingError
from faxcore.documents.model import BYTES_PER_ROW, Compression, DocumentLimits, PageGeometry

log = logging.getLogger(__name__)

GS = "gs"
SOFFICE = "soffice"
RSVG = "rsvg-convert"
TOOL_NICENESS = 10
# How often ``watch`` looks at what a running converter has written.
WATCH_INTERVAL = 0.2
_MB = 1024 * 1024
# Exit statuses of a run stopped by a limit: killed by the signal, or a shell or
# unshare in between reporting it as 128 + signal.
_LIMIT_EXITS = frozenset(code for sig in (signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ)
                         for code in (-sig, 128 + sig))
# What converters print when an allocation fails at the address-space cap.
_MEMORY_MARKERS = (b"VMerror", b"MemoryError", b"bad_alloc", b"Cannot allocate memory",
                   b"out of memory")
# Namespaces that cut a converter off the network and tie its children to it.
_ISOLATE = ("unshare", "--net", "--pid", "--kill-child", "--")
_ISOLATE_UNPRIVILEGED = ("unshare", "--map-root-user", "--net", "--pid", "--kill-child", "--")


@functools.cache
def isolation_prefix() -> tuple[str, ...]:
    """The ``unshare`` prefix this host allows (root, or user namespaces), else none.

    Probed once per process; without it converters keep the host's network and
    a forked child could outlive a killed parent, which is logged once here.
    """
    for prefix in (_ISOLATE, _ISOLATE_UNPRIVILEGED):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10,
                                   check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    log.warning("converters run without network and PID isolation: unshare is not "
                "permitted here (see docs/security.md)")
    return ()


def confine_argv(argv: Sequence[str], limits: DocumentLimits,
                 isolate: Sequence[str] = ()) -> list[str]:
    """``argv`` wrapped in its limits: dies with faxcore, capped CPU, memory, file size.

    ``nice`` leaves the CPU to calls in progress when both want it.
    """
    return [
        "setpriv", "--pdeathsig", "KILL", "--",
        "prlimit", f"--cpu={limits.tool_cpu_seconds}", f"--as={limits.tool_memory_mb * _MB}",
        f"--fsize={limits.tool_file_mb * _MB}", "--core=0", "--",
        "nice", "-n", str(TOOL_NICENESS), *isolate, *argv,
    ]


def tool_env(home: Path) -> dict[str, str]:
    """A converter's environment: the private work folder as HOME and TMPDIR, nothing else."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "TMPDIR": str(home), "LANG": "C.UTF-8"}


def _failure(what: str, returncode: int | None, output: bytes,
             limits: DocumentLimits) -> ConversionError:
    """The subscriber's error for a failed run, naming the limit that stopped it, if one did.

    Ghostscript reports errors such as ``VMerror`` on stdout, so ``output`` is both.
    """
    if returncode in _LIMIT_EXITS:
        return ConversionError(
            f"{what}: the conversion needed more than the allowed {limits.tool_cpu_seconds} s "
            f"of CPU or {limits.tool_file_mb} MB per file, and was stopped")
    if any(marker in output for marker in _MEMORY_MARKERS):
        return ConversionError(
            f"{what}: the conversion needed more than the allowed {limits.tool_memory_mb} MB "
            "of memory, and was stopped")
    return ConversionError(f"{what}: the document could not be converted")


async def _communicate(proc: asyncio.subprocess.Process, timeout: float,
                       watch: Callable[[], None] | None) -> tuple[bytes, bytes]:
    """``proc.communicate()`` within ``timeout``, calling ``watch`` while it runs."""
    async with asyncio.timeout(timeout):
        if watch is None:
            return await proc.communicate()
        task = asyncio.ensure_future(proc.communicate())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=WATCH_INTERVAL)
                if done:
                    return task.result()
                watch()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def run_tool(argv: Sequence[str], *, limits: DocumentLimits, what: str, cwd: Path,
                   watch: Callable[[], None] | None = None) -> bytes:
    """Run ``argv`` confined in ``cwd`` (its private HOME); its stdout, or ``ConversionError``.

    ``watch`` is called every ``WATCH_INTERVAL`` seconds while the tool runs; an
    exception it raises stops the tool and is raised here.
    """
    if shutil.which(argv[0]) is None:
        raise ToolMissingError(f"{what}: the converter {argv[0]} is not installed")
    isolate = await asyncio.to_thread(isolation_prefix)
    proc = await asyncio.create_subprocess_exec(
        *confine_argv(argv, limits, isolate), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd,
        env=tool_env(cwd), start_new_session=True)  # its own group: killed as one
    try:
        stdout, stderr = await _communicate(proc, limits.tool_timeout, watch)
    except TimeoutError as exc:
        log.warning("%s: %s killed after %g s", what, argv[0], limits.tool_timeout)
        raise ConversionTimeoutError(
            f"{what}: the conversion took longer than {limits.tool_timeout:g} s and was "
            "stopped") from exc
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
        raise _failure(what, proc.returncode, stdout + stderr, limits)
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


def gs_bounded(argv: Sequence[str], last_page: int) -> list[str]:
    """A Ghostscript command that writes no page after ``last_page`` (any input language)."""
    return [argv[0], f"-dLastPage={last_page}", *argv[1:]]


def gs_gray_argv(source: Path, pattern: Path, geometry: PageGeometry,
                 source_is_pdf: bool = True) -> list[str]:
    """Render ``source`` to 8-bit grayscale PGM pages (``pattern`` holds ``%05d``)."""
    return [
        *gs_base(geometry, _fit_option(source_is_pdf)),
        "-sDEVICE=pgmraw", "-dTextAlphaBits=1", "-dGraphicsAlphaBits=1",
        f"-sOutputFile={pattern}", str(source),
    ]


# LibreOffice settings of the private profile: no macros, no links to resources
# outside the document (a document must not fetch URLs or read local files).
_SOFFICE_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "int", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "boolean",
     "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks",
     "boolean", "true"),
    ("/org.openoffice.Office.Common/Misc", "UseLocking", "boolean", "false"),
)


def write_soffice_profile(profile: Path) -> None:
    """A fresh LibreOffice user profile with macros and outside links turned off."""
    items = "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse" oor:type="xs:{kind}">'
        f"<value>{value}</value></prop></item>\n"
        for path, name, kind, value in _SOFFICE_SETTINGS)
    user = profile / "user"
    user.mkdir(parents=True, mode=0o700)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n", encoding="utf-8")


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
