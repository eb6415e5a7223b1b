"""What a file is, from its content (magic bytes), the extension only as a tie-breaker.

Subscribers send files with wrong or missing extensions (``scan``, ``fax.dat``,
a ``.pdf`` that is really a JPEG); the converter is picked from the bytes.
The extension decides only where content cannot (CSV is plain text; OLE2
holds Word, Excel and PowerPoint alike).
"""

from __future__ import annotations

import codecs
import enum
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from faxcore.documents.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    UnsupportedDocumentError,
)

SUPPORTED_HINT = (
    "PDF, PostScript, images (BMP, JPEG, PNG, GIF, TIFF, SVG), plain text and office "
    "documents (DOC, DOCX, ODT, RTF, XLS, XLSX, ODS, CSV, PPT, PPTX, ODP)"
)


class Kind(enum.Enum):
    """Converter families."""

    PDF = "pdf"
    POSTSCRIPT = "postscript"
    IMAGE = "image"
    SVG = "svg"
    OFFICE = "office"
    TEXT = "text"


@dataclass(frozen=True)
class Detected:
    """A file's kind and the extension its converter should see (``docx``, ``png``)."""

    kind: Kind
    ext: str


_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_EXTS = {"doc", "xls", "ppt", "dot", "xlt", "pot", "pps"}
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/vnd.oasis.opendocument.graphics": "odg",
}
_OOXML_DIRS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
_SVG_RE = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]",
                     re.DOTALL | re.IGNORECASE)
_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}
_SNIFF = 8192


def decode_text(data: bytes, final: bool = True) -> str | None:
    """Text content of ``data`` (UTF-8, else Windows-1252), or None if it is binary.

    ``final=False`` accepts a multi-byte character cut at the end (a sniffed head).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return None
    if any(ord(c) in _TEXT_CONTROLS for c in text[:_SNIFF]):
        return None
    return text


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype").strip()
                return _ODF_MIMETYPES.get(mimetype)
            if "[Content_Types].xml" in names:
                for prefix, ext in _OOXML_DIRS:
                    if any(n.startswith(prefix) for n in names):
                        return ext
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise CorruptDocumentError(f"{path.name}: the file is damaged and cannot be read") from exc
    return None


def detect(path: Path) -> Detected:
    """Kind of the file at ``path``; ``UnsupportedDocumentError`` if it cannot be faxed."""
    with path.open("rb") as f:
        head = f.read(_SNIFF)
    name = path.name
    ext = path.suffix.lower().lstrip(".")
    if not head.strip():
        raise EmptyDocumentError(f"{name}: the document is empty")
    if b"%PDF-" in head[:1024]:
        return Detected(Kind.PDF, "pdf")
    if head.startswith(b"%!") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        return Detected(Kind.POSTSCRIPT, "ps")
    for magic, image_ext in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Detected(Kind.IMAGE, image_ext)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Detected(Kind.IMAGE, "webp")
    if head.startswith(_OLE2):
        return Detected(Kind.OFFICE, ext if ext in _OLE_EXTS else "doc")
    if head.startswith(b"PK\x03\x04"):
        zip_ext = _zip_kind(path)
        if zip_ext is None:
            raise UnsupportedDocumentError(
                f"{name}: this archive is not a document that can be faxed; "
                f"supported: {SUPPORTED_HINT}")
        return Detected(Kind.OFFICE, zip_ext)
    if head.lstrip().startswith(b"{\\rtf"):
        return Detected(Kind.OFFICE, "rtf")
    if _SVG_RE.match(head.lstrip(b"\xef\xbb\xbf")):
        return Detected(Kind.SVG, "svg")
    if decode_text(head, final=len(head) < _SNIFF) is not None:
        if ext in ("csv", "tsv"):
            return Detected(Kind.OFFICE, ext)
        return Detected(Kind.TEXT, "txt")
    raise UnsupportedDocumentError(
        f"{name}: this file type cannot be faxed; supported: {SUPPORTED_HINT}")
