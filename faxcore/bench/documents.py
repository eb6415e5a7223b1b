"""``faxcore bench documents``: PDF to fax pages, faxcore against plain Ghostscript.

The same generated PDF (text, rules and a gray box on every page) is turned
into fax pages by ``faxcore.documents.convert_to_fax`` (high quality, A4,
header line stamped on each page) and by a bare
``gs -sDEVICE=tiffg4 -r204x196 -o out.tif in.pdf``, alternately, in the same
run. The best wall time of each side counts. The last line is::

    RESULT documents_vs_gs=<faxcore pages/s ÷ gs pages/s> faxcore_pages_per_s=<x> \
gs_pages_per_s=<y> pages=<n>
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from faxcore import bench
from faxcore.bench import BenchError
from faxcore.cli.common import emit, handles_errors, json_option
from faxcore.documents import DocumentLimits, HeaderSpec, Paper, Quality, convert_to_fax
from faxcore.documents.errors import DocumentError
from faxcore.documents.tiff import read_tiff
from faxcore.documents.tools import GS, run_tool

RESULT_KEYS = ("documents_vs_gs", "faxcore_pages_per_s", "gs_pages_per_s", "pages")

_LINE = "The quick brown fox jumps over the lazy dog; fax 0123456789 ({page}/{pages}) line {n}."


def benchmark_postscript(pages: int) -> str:
    """A PostScript program for ``pages`` A4 pages of text, rules and a gray box."""
    out = ["%!PS", "/Helvetica findfont 10 scalefont setfont"]
    for page in range(1, pages + 1):
        out.append("0.5 setlinewidth 50 800 moveto 545 800 lineto stroke")
        out.append("0.8 setgray 380 620 150 120 rectfill 0 setgray")
        for n, y in enumerate(range(780, 60, -13)):
            text = _LINE.format(page=page, pages=pages, n=n + 1)
            out.append(f"60 {y} moveto ({text}) show")
        out.append("showpage")
    return "\n".join(out) + "\n"


async def make_pdf(pages: int, work: Path) -> Path:
    """Write the benchmark PDF with Ghostscript's pdfwrite."""
    ps = work / "bench.ps"
    pdf = work / "bench.pdf"
    ps.write_text(benchmark_postscript(pages), encoding="ascii")
    await run_tool([GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                    "-sPAPERSIZE=a4", f"-sOutputFile={pdf}", str(ps)],
                   limits=DocumentLimits(), what="benchmark PDF", cwd=work)
    return pdf


@dataclass(frozen=True)
class DocumentsBench:
    """Wall times of both sides for the same document."""

    pages: int
    repeat: int
    faxcore_seconds: list[float]
    gs_seconds: list[float]

    @property
    def faxcore_pages_per_s(self) -> float:
        return self.pages / min(self.faxcore_seconds)

    @property
    def gs_pages_per_s(self) -> float:
        return self.pages / min(self.gs_seconds)

    @property
    def ratio(self) -> float:
        """faxcore pages/s ÷ gs pages/s: 1.0 means stamping and checks cost nothing."""
        return self.faxcore_pages_per_s / self.gs_pages_per_s

    def result_line(self) -> str:
        return (
            f"RESULT documents_vs_gs={self.ratio:.3f} "
            f"faxcore_pages_per_s={self.faxcore_pages_per_s:.1f} "
            f"gs_pages_per_s={self.gs_pages_per_s:.1f} pages={self.pages}"
        )


def parse_result_line(line: str) -> dict[str, float]:
    """Read back the figures of a ``RESULT`` line (for tests and dashboards)."""
    return bench.parse_result_line(line, RESULT_KEYS, "documents")


async def run_benchmark(pages: int, repeat: int) -> DocumentsBench:
    """Convert the same PDF ``repeat`` times each way, alternating the two sides."""
    if pages < 1 or repeat < 1:
        raise BenchError("pages and repeat must be at least 1")
    header = HeaderSpec(text="faxcore benchmark", tsi="+33 1 23 45 67 89",
                        when=datetime(2026, 1, 1, 12, 0))
    faxcore_times: list[float] = []
    gs_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="faxcore-bench-doc-") as tmpdir:
        work = Path(tmpdir)
        pdf = await make_pdf(pages, work)
        ours, theirs = work / "faxcore.tif", work / "gs.tif"
        for _ in range(repeat):
            start = time.perf_counter()
            try:
                doc = await convert_to_fax([pdf], ours, quality=Quality.HIGH, paper=Paper.A4,
                                           header=header)
            except DocumentError as exc:
                raise BenchError(f"faxcore conversion failed: {exc}") from exc
            faxcore_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            await run_tool([GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiffg4",
                            "-r204x196", f"-sOutputFile={theirs}", str(pdf)],
                           limits=DocumentLimits(), what="baseline gs", cwd=work)
            gs_times.append(time.perf_counter() - start)
            if doc.pages != pages or len(read_tiff(theirs)) != pages:
                raise BenchError(f"expected {pages} pages, faxcore made {doc.pages}")
    return DocumentsBench(pages, repeat, faxcore_times, gs_times)


@click.command(name="documents")
@click.option("--pages", default=20, show_default=True, help="Pages in the test PDF.")
@click.option("--repeat", default=7, show_default=True, help="Runs per side; the best counts.")
@json_option
@handles_errors
def command(pages: int, repeat: int, as_json: bool) -> None:
    """PDF to fax TIFF: faxcore.documents (with header) vs plain gs tiffg4."""
    result = asyncio.run(run_benchmark(pages, repeat))
    details = {
        "pages": result.pages,
        "repeat": result.repeat,
        "faxcore_seconds": [round(s, 4) for s in result.faxcore_seconds],
        "gs_seconds": [round(s, 4) for s in result.gs_seconds],
        "documents_vs_gs": round(result.ratio, 3),
        "faxcore_pages_per_s": round(result.faxcore_pages_per_s, 1),
        "gs_pages_per_s": round(result.gs_pages_per_s, 1),
        "result": result.result_line(),
    }
    text = "\n".join([
        f"document: {pages}-page A4 PDF, high quality (204x196), best of {repeat} runs per side",
        f"faxcore : best {min(result.faxcore_seconds) * 1000:7.1f} ms, median "
        f"{statistics.median(result.faxcore_seconds) * 1000:7.1f} ms "
        "(checks, render, header on every page, TIFF written)",
        f"gs      : best {min(result.gs_seconds) * 1000:7.1f} ms, median "
        f"{statistics.median(result.gs_seconds) * 1000:7.1f} ms (tiffg4, no header)",
        f"ratio from medians (for noisy machines): "
        f"{statistics.median(result.gs_seconds) / statistics.median(result.faxcore_seconds):.3f}",
        result.result_line(),
    ])
    emit(details, text, as_json)
