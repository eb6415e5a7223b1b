"""Counting a PDF's pages with pypdf, in a confined child process.

pypdf parses hostile PDFs in Python: a crafted object stream can take
gigabytes or loop for minutes. ``count_pdf_pages`` (in ``pdf``) runs this
module under the converter limits (``tools.run_tool``) and reads one JSON
line back; ``inspect_pdf`` is the parse itself, also used directly on PDFs
faxcore made.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pypdf
from pypdf.errors import PdfReadError

from faxcore.documents.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
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
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError, IndexError, ZeroDivisionError) as exc:
        log.info("%s: pypdf cannot read it: %s", label, exc)
        raise CorruptDocumentError(f"{label}: the PDF is damaged and cannot be read") from exc
    if pages == 0:
        raise EmptyDocumentError(f"{label}: the PDF has no pages")
    return PdfInfo(pages=pages)


def main(argv: list[str]) -> int:
    """``argv`` is (program, FILE, NAME): one JSON line on stdout, the count or the error."""
    try:
        result: dict[str, object] = {"pages": inspect_pdf(Path(argv[1]), argv[2]).pages}
    except DocumentError as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
