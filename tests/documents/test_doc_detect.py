"""File type detection from content."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from doc_samples import make_docx

from faxcore.documents.detect import Detected, Kind, decode_text, detect
from faxcore.documents.errors import EmptyDocumentError, UnsupportedDocumentError


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.bin", b"%PDF-1.7\n...", Detected(Kind.PDF, "pdf")),
        ("a.txt", b"\n\n%PDF-1.4 after junk", Detected(Kind.PDF, "pdf")),
        ("a", b"%!PS-Adobe-3.0\n", Detected(Kind.POSTSCRIPT, "ps")),
        ("scan.pdf", b"\x89PNG\r\n\x1a\n....", Detected(Kind.IMAGE, "png")),
        ("x", b"\xff\xd8\xff\xe0....", Detected(Kind.IMAGE, "jpg")),
        ("x", b"GIF89a....", Detected(Kind.IMAGE, "gif")),
        ("x", b"BM......", Detected(Kind.IMAGE, "bmp")),
        ("x", b"II*\x00....", Detected(Kind.IMAGE, "tiff")),
        ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", Detected(Kind.OFFICE, "xls")),
        ("x", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", Detected(Kind.OFFICE, "doc")),
        ("x.doc", b"{\\rtf1\\ansi hello}", Detected(Kind.OFFICE, "rtf")),
        ("x", b'<?xml version="1.0"?>\n<!-- c -->\n<svg xmlns="..."></svg>',
         Detected(Kind.SVG, "svg")),
        ("x.csv", b"a,b\n1,2\n", Detected(Kind.OFFICE, "csv")),
        ("x.log", "caf\u00e9 \u20ac\n".encode(), Detected(Kind.TEXT, "txt")),
        ("x", "caf\u00e9\n".encode("cp1252"), Detected(Kind.TEXT, "txt")),
    ],
)
def test_kind_comes_from_the_bytes(tmp_path: Path, name: str, data: bytes,
                                   expected: Detected) -> None:
    assert detect(write(tmp_path, name, data)) == expected


def test_office_zip_packages_are_told_apart(tmp_path: Path) -> None:
    assert detect(make_docx(tmp_path / "file.zip", ["x"])) == Detected(Kind.OFFICE, "docx")
    odt = tmp_path / "noext"
    with zipfile.ZipFile(odt, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert detect(odt) == Detected(Kind.OFFICE, "ods")


def test_plain_zip_is_not_faxable(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.jpg", b"x")
    with pytest.raises(UnsupportedDocumentError,
                       match=r"^photos.zip: this archive is not a document that can be faxed"):
        detect(archive)


def test_binary_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDocumentError, match=r"^a.exe: this file type cannot be faxed"):
        detect(write(tmp_path, "a.exe", b"\x7fELF\x02\x01\x01\x00" + bytes(100)))
    with pytest.raises(EmptyDocumentError, match=r"^e.pdf: the document is empty$"):
        detect(write(tmp_path, "e.pdf", b""))


def test_text_sniff_tolerates_a_character_cut_at_the_end() -> None:
    data = "é".encode() * 4096  # 8192 bytes; cut in the middle of a character
    assert decode_text(data[:8191], final=False) is not None
    assert decode_text(b"abc\x00def") is None
