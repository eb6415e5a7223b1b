"""PDF in and out: page counts before rendering (``pdfprobe``), received fax TIFF to PDF.

Received faxes become PDFs with the CCITT data embedded as is (img2pdf puts a
single-strip G4 page into the PDF byte for byte; other bilevel pages are
re-coded to G4 without losing a pixel). The page size comes from the TIFF's
own resolution, so a 204x98 fax is not shown half-height.

A received TIFF is what a caller sent: its pages are measured from the TIFF
directories (nothing decoded) before Pillow and img2pdf see them, so a page
wider than a fax or longer than allowed is refused without decoding it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import img2pdf
from PIL import Image

from faxcore.documents.errors import (
    ConversionError,
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    TiffFormatError,
)
from faxcore.documents.model import DocumentLimits
from faxcore.documents.pdfprobe import PdfInfo, inspect_pdf
from faxcore.documents.tiff import read_tiff
from faxcore.documents.tools import run_tool
from faxcore.storage.files import fsync_path

__all__ = ["PdfInfo", "count_pdf_pages", "inspect_pdf", "tiff_to_pdf", "tiff_to_pdf_sync"]

log = logging.getLogger(__name__)


_PROBE = "import sys; from faxcore.documents.pdfprobe import main; sys.exit(main(sys.argv))"
# Errors the probe may report, by name; anything else is a failed conversion.
_PROBE_ERRORS: dict[str, type[DocumentError]] = {
    cls.__name__: cls
    for cls in (CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError)
}


async def count_pdf_pages(path: Path, name: str, limits: DocumentLimits, cwd: Path) -> int:
    """Page count of an untrusted PDF, parsed by ``pdfprobe`` under the converter limits."""
    out = await run_tool([sys.executable, "-I", "-c", _PROBE, str(path), name],
                         limits=limits, what=name, cwd=cwd)
    try:
        result = json.loads(out)
    except ValueError as exc:
        raise ConversionError(f"{name}: the document could not be converted") from exc
    if isinstance(result, dict) and isinstance(result.get("pages"), int):
        return int(result["pages"])
    error = _PROBE_ERRORS.get(str(result.get("error"))) if isinstance(result, dict) else None
    if error is None:
        raise ConversionError(f"{name}: the document could not be converted")
    raise error(str(result.get("message")))


# T.4's widest scan line (A3 at 408 dpi); a fax page is never wider.
MAX_FAX_WIDTH = 4864
# A page without a vertical resolution is measured as the finest fax one.
_FINEST_FAX_DPI = 391.0
MM_PER_INCH = 25.4


def check_fax_page(label: str, width: int, height: int, y_dpi: float,
                   max_length_mm: float | None) -> None:
    """Refuse a page wider than a fax or, if ``max_length_mm`` is set, longer than that."""
    if not 0 < width <= MAX_FAX_WIDTH or height <= 0:
        raise TiffFormatError(f"{label}: a {width}x{height} page is not a fax page")
    if max_length_mm is None:
        return
    length_mm = height / (y_dpi if y_dpi > 0 else _FINEST_FAX_DPI) * MM_PER_INCH
    if length_mm > max_length_mm:
        raise TiffFormatError(
            f"{label}: the page is {length_mm:.0f} mm long, longer than {max_length_mm:g} mm")


def _tiff_pages(tiff: Path, max_length_mm: float | None) -> int:
    """Page count of a fax TIFF, measured from its directories only."""
    try:
        pages = read_tiff(tiff)
    except (TiffFormatError, OSError) as exc:
        raise TiffFormatError(f"{tiff.name}: not a readable TIFF file") from exc
    for number, page in enumerate(pages, start=1):
        check_fax_page(f"{tiff.name} page {number}", page.width, page.height, page.y_dpi,
                       max_length_mm)
    return len(pages)


def tiff_to_pdf_sync(tiff: Path, pdf: Path, max_length_mm: float | None = None) -> int:
    """Write ``tiff`` (a fax, any page count) as ``pdf``, durably; returns the page count.

    ``max_length_mm`` refuses a TIFF with a longer page (``TiffFormatError``).
    """
    pages = _tiff_pages(tiff, max_length_mm)
    fd, tmp_name = tempfile.mkstemp(prefix=".faxcore-", suffix=".pdf", dir=pdf.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                img2pdf.convert(str(tiff), outputstream=out, rotation=img2pdf.Rotation.ifvalid)
            except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError, ValueError,
                    OSError, Image.DecompressionBombError) as exc:
                raise TiffFormatError(f"{tiff.name}: the fax image cannot be read") from exc
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, pdf)
        fsync_path(pdf.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return pages


async def tiff_to_pdf(tiff: Path, pdf: Path, max_length_mm: float | None = None) -> int:
    """Async ``tiff_to_pdf_sync`` (the work runs in a thread)."""
    return await asyncio.to_thread(tiff_to_pdf_sync, tiff, pdf, max_length_mm)
