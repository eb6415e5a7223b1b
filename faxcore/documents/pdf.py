"""PDF in and out: checks before rendering, received fax TIFF to PDF.

Received faxes become PDFs with the CCITT data embedded as is (img2pdf puts a
single-strip G4 page into the PDF byte for byte; other bilevel pages are
re-coded to G4 without losing a pixel). The page size comes from the TIFF's
own resolution, so a 204x98 fax is not shown half-height.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pypdf
from PIL import Image, UnidentifiedImageError
from pypdf.errors import PdfReadError

from faxcore.documents.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    TiffFormatError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PdfInfo:
    """What is known about a PDF before rendering it."""

    pages: int


def inspect_pdf(path: Path, name: str | None = None) -> PdfInfo:
    """Page count of a PDF, refusing damaged, password-protected and empty ones."""
    label = name or path.name
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedDocumentError(
                f"{label}: the PDF is protected by a password; send it without password "
                "protection")
        pages = len(reader.pages)
    except EncryptedDocumentError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("%s: pypdf cannot read it: %s", label, exc)
        raise CorruptDocumentError(f"{label}: the PDF is damaged and cannot be read") from exc
    if pages == 0:
        raise EmptyDocumentError(f"{label}: the PDF has no pages")
    return PdfInfo(pages=pages)


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
