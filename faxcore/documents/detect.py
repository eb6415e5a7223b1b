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
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from faxcore.documents.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    UnsupportedDocumentError,
)
from faxcore.documents.model import DocumentLimits

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
# A comment ends at its first "-->" (no lazy ".*?"), so the match is linear: a
# lazy comment let "<!-- -->" repeated 30 times take minutes (each "-->" could
# end any earlier comment).
_SVG_RE = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--(?:[^-]|-(?!->))*-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]",
    re.IGNORECASE)
_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}
_SNIFF = 8192
# An archive is looked at only through its central directory and a few bytes of
# ``mimetype``: a zip bomb is never unpacked here. Office files have hundreds of
# members; the end record must say how many before zipfile reads them all.
_MAX_MEMBERS = 10_000
_MAX_DIRECTORY = _MAX_MEMBERS * 512
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_EOCD_SEARCH = 22 + 65535
_MIMETYPE_BYTES = 128
# What zipfile and zlib raise on damaged or unusual archives (encrypted,
# unknown compression, truncated streams).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, EOFError,
               RuntimeError, NotImplementedError, ValueError, zlib.error, struct.error)


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


def _check_directory(path: Path) -> None:
    """Refuse an archive whose central directory is too big before zipfile reads it.

    zipfile reads the whole directory (and trusts a ZIP64 record over the
    classic one), so the sizes are read here from the end record itself;
    office files of a faxable size never need ZIP64.
    """
    with path.open("rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - _EOCD_SEARCH))
        tail = f.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise CorruptDocumentError(f"{path.name}: the file is damaged and cannot be read")
    count, directory = struct.unpack_from("<HI", tail, at + 10)
    zip64 = at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR
    if zip64 or count > _MAX_MEMBERS or directory > _MAX_DIRECTORY:
        raise DocumentTooLargeError(
            f"{path.name}: the archive has more than {_MAX_MEMBERS} parts, more than a "
            "document that can be faxed")


def _zip_kind(path: Path, limits: DocumentLimits) -> str | None:
    name = path.name
    _check_directory(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > limits.max_unpacked_mb * 1024 * 1024:
                raise DocumentTooLargeError(
                    f"{name}: the document unpacks to {unpacked / 1048576:.0f} MB, more than "
                    f"the {limits.max_unpacked_mb} MB allowed")
            names = {info.filename for info in infos}
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(_MIMETYPE_BYTES).strip()
                return _ODF_MIMETYPES.get(mimetype)
            if "[Content_Types].xml" in names:
                for prefix, ext in _OOXML_DIRS:
                    if any(n.startswith(prefix) for n in names):
                        return ext
    except _ZIP_ERRORS as exc:
        raise CorruptDocumentError(f"{name}: the file is damaged and cannot be read") from exc
    return None


def detect(path: Path, limits: DocumentLimits | None = None) -> Detected:
    """Kind of the file at ``path``; ``UnsupportedDocumentError`` if it cannot be faxed.

    Only ``DocumentError`` subclasses leave here, whatever the bytes.
    """
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
        zip_ext = _zip_kind(path, limits or DocumentLimits())
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
