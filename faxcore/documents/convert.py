"""Any supported documents -> one fax-ready multi-page TIFF (``convert_to_fax``).

Order of work: every input is checked (size, type by content, PDF readable
and unlocked, page limit) before the expensive conversions; office files go
through one LibreOffice run together; PDF, PostScript, SVG and office pages
are rendered by Ghostscript straight to coded strips; images, text and the
cover page are drawn with Pillow. The header band is coded once per page and
put in front of the page's strips (see ``tiff``), so stamping costs almost
nothing. All temporary files live in one directory removed at the end; the
TIFF appears at ``out`` only when complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from faxcore.documents import raster
from faxcore.documents.detect import Detected, Kind, decode_text, detect
from faxcore.documents.errors import (
    ConversionError,
    CorruptDocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    TiffFormatError,
    UnsupportedDocumentError,
)
from faxcore.documents.model import (
    Compression,
    CoverPage,
    DocumentLimits,
    FaxDocument,
    HeaderSpec,
    PageGeometry,
    Paper,
    Quality,
)
from faxcore.documents.pdf import count_pdf_pages
from faxcore.documents.tiff import CodedPage, TiffWriter, parse_tiff, stack_pages
from faxcore.documents.tools import (
    gs_bounded,
    gs_fax_argv,
    gs_gray_argv,
    rsvg_argv,
    run_tool,
    soffice_argv,
    write_soffice_profile,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Source:
    index: int
    path: Path
    detected: Detected

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class _Job:
    """Settings shared by every step of one conversion."""

    geometry: PageGeometry
    compression: Compression
    limits: DocumentLimits
    tmp: Path


def _check_input(index: int, path: Path, limits: DocumentLimits) -> _Source:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise EmptyDocumentError(f"{path.name}: the file does not exist") from exc
    if size == 0:
        raise EmptyDocumentError(f"{path.name}: the document is empty")
    if size > limits.max_bytes:
        raise DocumentTooLargeError(
            f"{path.name}: the file is {size / 1048576:.1f} MB, more than the "
            f"{limits.max_bytes / 1048576:.0f} MB a fax document may have")
    return _Source(index, path, detect(path, limits))


def _too_many(name: str, total: int, limits: DocumentLimits) -> DocumentTooLargeError:
    return DocumentTooLargeError(
        f"{name}: too many pages: the fax would have {total} pages, at most "
        f"{limits.max_pages} are allowed")


def _used_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` now (files may vanish while counted)."""
    total = 0
    for root, _, files in os.walk(folder):
        for file in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(root, file)).st_size
    return total


def _watch_output(work: Path, name: str, job: _Job, room: int) -> Callable[[], None]:
    """A ``run_tool`` watch: stop Ghostscript past ``room`` pages or the work folder limit.

    Ghostscript writes one file per page and stops writing after ``room + 1``
    (``-dLastPage``), but a PostScript program may loop forever: the watch
    refuses it as soon as the extra page appears.
    """
    limits = job.limits

    def watch() -> None:
        if sum(1 for _ in work.iterdir()) > room:
            raise DocumentTooLargeError(
                f"{name}: too many pages: the fax would have more than {limits.max_pages} "
                f"pages, at most {limits.max_pages} are allowed")
        if _used_bytes(job.tmp) > limits.work_mb * 1024 * 1024:
            raise DocumentTooLargeError(
                f"{name}: the conversion needs more than the {limits.work_mb} MB of work "
                "space allowed")

    return watch


def _encode(bitmap: Image.Image, job: _Job) -> CodedPage:
    g = job.geometry
    return raster.encode_bitmap(bitmap, strip_rows=g.strip_rows, compression=job.compression,
                                x_dpi=g.x_dpi, y_dpi=g.y_dpi)


async def _office_to_pdf(sources: Sequence[_Source], job: _Job) -> dict[int, Path]:
    """Convert all office files with one LibreOffice start (about a second each start)."""
    if not sources:
        return {}
    indir, outdir = job.tmp / "office-in", job.tmp / "office-out"
    indir.mkdir()
    outdir.mkdir()
    staged = []
    stems: set[str] = set()
    for src in sources:
        # The stem shows (sheet names, headers): keep the subscriber's, made safe and
        # unique; the extension is the detected one, as soffice trusts extensions.
        stem = re.sub(r"[^\w.-]+", "_", src.path.stem).strip("._") or "document"
        if stem in stems:
            stem = f"{stem}-{src.index}"
        stems.add(stem)
        target = indir / f"{stem}.{src.detected.ext}"
        shutil.copyfile(src.path, target)
        staged.append(target)
    names = ", ".join(s.name for s in sources)
    profile = job.tmp / "lo-profile"
    write_soffice_profile(profile)
    await run_tool(soffice_argv(staged, outdir, profile),
                   limits=job.limits, what=names, cwd=job.tmp)
    result = {}
    for src, target in zip(sources, staged, strict=True):
        pdf = outdir / f"{target.stem}.pdf"
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise ConversionError(f"{src.name}: the document could not be converted")
        result[src.index] = pdf
    return result


def _check_strips(pages: list[CodedPage], job: _Job, name: str) -> None:
    g = job.geometry
    for page in pages:
        if page.width != g.width or page.height != g.content_rows:
            raise ConversionError(f"{name}: the document could not be converted")
        if g.with_header and page.rows_per_strip != g.strip_rows:
            log.error("%s: gs wrote %d rows per strip, expected %d", name,
                      page.rows_per_strip, g.strip_rows)
            raise ConversionError(f"{name}: the document could not be converted")


def _gray_pages(files: list[Path], job: _Job) -> list[CodedPage]:
    pages = []
    for file in files:
        with Image.open(file) as gray:
            bitmap = raster.gray_page(gray.convert("L"), job.geometry, dither=True)
        file.unlink()
        pages.append(_encode(bitmap, job))
    return pages


def _strip_pages(files: list[Path], job: _Job, name: str) -> list[CodedPage]:
    pages = []
    for file in files:
        try:
            pages.extend(parse_tiff(file.read_bytes()))
        except TiffFormatError as exc:
            raise CorruptDocumentError(
                f"{name}: the document is damaged and cannot be read") from exc
        file.unlink()
    _check_strips(pages, job, name)
    return pages


async def _render_with_gs(source: Path, name: str, job: _Job, work: Path,
                          is_pdf: bool, max_pages: int) -> list[CodedPage]:
    """Ghostscript: PDF/PostScript to content pages (strips, or dithered gray for best).

    One file per page, at most ``max_pages + 1`` written, watched as they come.
    """
    work.mkdir()
    g = job.geometry
    best = g.quality.dither_everything
    if best:
        argv = gs_gray_argv(source, work / "p%05d.pgm", g, is_pdf)
    else:
        argv = gs_fax_argv(source, work / "p%05d.tif", g, job.compression, is_pdf)
    await run_tool(gs_bounded(argv, max_pages + 1), limits=job.limits, what=name,
                   cwd=job.tmp, watch=_watch_output(work, name, job, max_pages))
    files = sorted(work.iterdir())
    if len(files) > max_pages:
        raise _too_many(name, job.limits.max_pages - max_pages + len(files), job.limits)
    if best:
        pages = await asyncio.to_thread(_gray_pages, files, job)
    else:
        pages = await asyncio.to_thread(_strip_pages, files, job, name)
    if not pages:
        raise EmptyDocumentError(f"{name}: the document has no pages")
    return pages


def _image_pages(path: Path, job: _Job, max_pages: int) -> list[CodedPage]:
    bitmaps = raster.image_bitmaps(path, job.geometry, job.geometry.quality.dither_everything,
                                   max_pages)
    return [_encode(bitmap, job) for bitmap in bitmaps]


def _image_frames(path: Path) -> int:
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptDocumentError(f"{path.name}: the image is damaged and cannot be read") from exc


def _text_layout(path: Path, job: _Job) -> list[list[str]]:
    text = decode_text(path.read_bytes())
    if text is None:
        raise UnsupportedDocumentError(f"{path.name}: the text file contains binary data")
    if not text.strip():
        raise EmptyDocumentError(f"{path.name}: the text is empty")
    lines = raster.wrap_lines(text, raster.text_columns())
    rows = raster.text_rows(job.geometry)
    return raster.paginate(lines, rows, rows)


def _text_pages(layout: list[list[str]], job: _Job) -> list[CodedPage]:
    return [_encode(raster.text_page(page, job.geometry), job) for page in layout]


@dataclass(frozen=True)
class _Prepared:
    """An input ready to render, with its page count when known beforehand."""

    src: _Source
    path: Path  # what is rendered: the PDF made from office and SVG files
    pages: int | None  # None for PostScript (known only after rendering)
    layout: list[list[str]] | None = None  # text pages


async def _prepare(src: _Source, office_pdf: Path | None, job: _Job) -> _Prepared:
    """Check an input and count its pages without rendering them."""
    kind = src.detected.kind
    if kind is Kind.TEXT:
        layout = await asyncio.to_thread(_text_layout, src.path, job)
        return _Prepared(src, src.path, len(layout), layout)
    if kind is Kind.IMAGE:
        return _Prepared(src, src.path, await asyncio.to_thread(_image_frames, src.path))
    if kind is Kind.POSTSCRIPT:
        return _Prepared(src, src.path, None)
    pdf = src.path
    if kind is Kind.SVG:
        pdf = job.tmp / f"svg{src.index}.pdf"
        await run_tool(rsvg_argv(src.path, pdf), limits=job.limits, what=src.name,
                       cwd=job.tmp)
    elif kind is Kind.OFFICE and office_pdf is not None:
        pdf = office_pdf
    return _Prepared(src, pdf, await count_pdf_pages(pdf, src.name, job.limits, job.tmp))


async def _render(prep: _Prepared, job: _Job, max_pages: int) -> list[CodedPage]:
    """Content pages of one input."""
    src = prep.src
    work = job.tmp / f"src{src.index}"
    kind = src.detected.kind
    if prep.layout is not None:
        return await asyncio.to_thread(_text_pages, prep.layout, job)
    if kind is Kind.IMAGE:
        return await asyncio.to_thread(_image_pages, src.path, job, max_pages)
    is_pdf = kind is not Kind.POSTSCRIPT
    return await _render_with_gs(prep.path, src.name, job, work, is_pdf, max_pages)


async def _render_all(prepared: Sequence[_Prepared], job: _Job,
                      cover_count: int) -> list[CodedPage]:
    content: list[CodedPage] = []
    for prep in prepared:
        room = job.limits.max_pages - cover_count - len(content)
        pages = await _render(prep, job, room)
        if len(pages) > room:
            raise _too_many(prep.src.name, job.limits.max_pages - room + len(pages), job.limits)
        content.extend(pages)
    return content


def _bands(header: HeaderSpec, total: int, job: _Job) -> list[CodedPage]:
    """The coded header band of every page of a ``total``-page fax."""
    g = job.geometry
    stacked = raster.encode_bitmap(raster.header_bands(header, total, g),
                                   strip_rows=g.band_rows, compression=job.compression,
                                   x_dpi=g.x_dpi, y_dpi=g.y_dpi)
    if len(stacked.strips) != total:
        raise ConversionError("the page header could not be made")
    return [replace(stacked, height=g.band_rows, strips=(strip,)) for strip in stacked.strips]


def _cover(cover: CoverPage, total: int, job: _Job) -> list[CodedPage]:
    return [_encode(b, job) for b in raster.cover_bitmaps(cover, total, job.geometry)]


def assemble(out: Path, pages: list[CodedPage], bands: list[CodedPage] | None) -> None:
    """Write the TIFF next to ``out``, each page under its header band, then move it in place."""
    total = len(pages)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            writer = TiffWriter(f)
            for number, page in enumerate(pages):
                stamped = page if bands is None else stack_pages(bands[number], page)
                writer.add(stamped, number, total)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


async def convert_to_fax(
    inputs: Sequence[Path],
    out: Path,
    *,
    quality: Quality,
    paper: Paper = Paper.A4,
    header: HeaderSpec | None = None,
    cover: CoverPage | None = None,
    limits: DocumentLimits | None = None,
    compression: Compression = Compression.G4,
) -> FaxDocument:
    """Turn ``inputs`` (in order, after the optional cover page) into one fax TIFF.

    When every page count is known before rendering (all but PostScript), the
    header bands are made in a thread while Ghostscript renders.
    """
    limits = limits or DocumentLimits()
    geometry = PageGeometry(quality, paper, header is not None)
    # Reading and sniffing files is blocking work: off the event loop that serves calls.
    sources = await asyncio.to_thread(
        lambda: [_check_input(i, Path(p), limits) for i, p in enumerate(inputs)])
    if not sources and cover is None:
        raise EmptyDocumentError("nothing to fax: no document and no cover page")
    cover_count = len(raster.cover_pages_layout(cover, geometry)) if cover else 0
    with tempfile.TemporaryDirectory(prefix="faxcore-doc-") as tmpdir:
        job = _Job(geometry, compression, limits, Path(tmpdir))
        office = [s for s in sources if s.detected.kind is Kind.OFFICE]
        office_pdfs = await _office_to_pdf(office, job)
        prepared: list[_Prepared] = []
        known = cover_count
        for src in sources:
            prep = await _prepare(src, office_pdfs.get(src.index), job)
            known += prep.pages or 0
            if known > limits.max_pages:
                raise _too_many(src.name, known, limits)
            prepared.append(prep)
        expected = known if all(p.pages is not None for p in prepared) else None
        bands: list[CodedPage] | None = None
        if header is not None and expected is not None:
            async with asyncio.TaskGroup() as tg:
                content_task = tg.create_task(_render_all(prepared, job, cover_count))
                bands_task = tg.create_task(asyncio.to_thread(_bands, header, expected, job))
            content, bands = content_task.result(), bands_task.result()
        else:
            content = await _render_all(prepared, job, cover_count)
        total = cover_count + len(content)
        if header is not None and (bands is None or len(bands) != total):
            bands = await asyncio.to_thread(_bands, header, total, job)
        cover_pages = await asyncio.to_thread(_cover, cover, total, job) if cover else []
        await asyncio.to_thread(assemble, out, cover_pages + content, bands)
    return FaxDocument(
        path=out, pages=total, quality=quality, paper=paper, compression=compression,
        width=geometry.width, page_lines=geometry.height,
        x_dpi=geometry.x_dpi, y_dpi=geometry.y_dpi,
    )


def convert_to_fax_sync(inputs: Sequence[Path], out: Path, **options: object) -> FaxDocument:
    """``convert_to_fax`` for synchronous callers (scripts, worker threads without a loop)."""
    return asyncio.run(convert_to_fax(inputs, out, **options))  # type: ignore[arg-type]
