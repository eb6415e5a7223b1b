"""PDF in and out: page counts before rendering (``pdfprobe``), received fax TIFF to PDF.

Received faxes become PDFs with the CCITT data embedded as is (img2pdf puts a
single-strip G4 page into the PDF byte for byte; other bilevel pages are
re-coded to G4 without losing a pixel). The page size comes from the TIFF's
own resolution, so a 204x98 fax is not shown half-height.
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
from PIL import Image, UnidentifiedImageError

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
from faxcore.documents.tools import run_tool

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


def _tiff_pages(tiff: Path) -> int:
    try:
        with Image.open(tiff) as image:
            if image.format != "TIFF":
                raise TiffFormatError(f"{tiff.name}: not a TIFF file")
            return int(getattr(image, "n_frames", 1))
    except (UnidentifiedImageError, OSError, TypeError, ValueError, SyntaxError) as exc:
        # Pillow raises TypeError/ValueError/SyntaxError for a TIFF cut short.
        raise TiffFormatError(f"{tiff.name}: not a readable TIFF file") from exc


def tiff_to_pdf_sync(tiff: Path, pdf: Path) -> int:
    """Write ``tiff`` (a fax, any page count) as ``pdf``; returns the page count."""
    pages = _tiff_pages(tiff)
    fd, tmp_name = tempfile.mkstemp(prefix=".faxcore-", suffix=".pdf", dir=pdf.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                img2pdf.convert(str(tiff), outputstream=out, rotation=img2pdf.Rotation.ifvalid)
            except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError, ValueError,
                    OSError) as exc:
                raise TiffFormatError(f"{tiff.name}: the fax image cannot be read") from exc
        os.replace(tmp, pdf)
    finally:
        tmp.unlink(missing_ok=True)
    return pages


async def tiff_to_pdf(tiff: Path, pdf: Path) -> int:
    """Async ``tiff_to_pdf_sync`` (the work runs in a thread)."""
    return await asyncio.to_thread(tiff_to_pdf_sync, tiff, pdf)
