"""File type detection from content."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from doc_samples import make_docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxcore.documents.detect import Detected, Kind, decode_text, detect
from faxcore.documents.errors import (
    DocumentError,
    EmptyDocumentError,
    UnsupportedDocumentError,
)


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


def _zip_bytes(members: dict[str, bytes], method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_ODT = _zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text",
                   "content.xml": b"<office:document-content/>"}, zipfile.ZIP_DEFLATED)
_DOCX = _zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"},
                   zipfile.ZIP_STORED)
_PREFIXES = [b"", b"%PDF-", b"%!", b"\x89PNG\r\n\x1a\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
             b"PK\x03\x04", b"{\\rtf", b"<?xml version='1.0'?><svg ", b"RIFF\0\0\0\0WEBP"]


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, magic numbers followed by junk, and real archives damaged at random."""
    kind = draw(st.sampled_from(["junk", "magic", "archive", "header"]))
    if kind == "junk":
        return draw(st.binary(max_size=4096))
    if kind == "magic":
        return draw(st.sampled_from(_PREFIXES)) + draw(st.binary(max_size=2048))
    data = bytearray(draw(st.sampled_from([_ODT, _DOCX])))
    if kind == "header":
        # Flags and compression method of a directory entry: encrypted, unknown methods.
        entries = [i for i in range(len(data) - 12) if data[i:i + 4] == b"PK\x01\x02"]
        at = draw(st.sampled_from(entries))
        data[at + 8:at + 12] = draw(st.binary(min_size=4, max_size=4))
        return bytes(data)
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hostile_files(), name=st.sampled_from(["x", "a.docx", "b.csv", "c.doc"]))
def test_any_bytes_give_a_kind_or_a_document_error(tmp_path: Path, data: bytes,
                                                   name: str) -> None:
    path = write(tmp_path, name, data)
    try:
        detected = detect(path)
    except DocumentError as exc:
        assert str(exc).startswith(f"{name}: ")
    else:
        assert isinstance(detected.kind, Kind)


def test_svg_sniff_of_many_comments_takes_linear_time(tmp_path: Path) -> None:
    """30 comments once took minutes of backtracking on the event loop (run apart to bound it)."""
    path = write(tmp_path, "comments", b"<!-- -->" * 30 + b"\n<svg></svg>")
    many = write(tmp_path, "many", b"<!-- -->" * 1000 + b"x")
    code = ("import sys; from pathlib import Path; from faxcore.documents.detect import detect; "
            "print(detect(Path(sys.argv[1])).kind.value, detect(Path(sys.argv[2])).kind.value)")
    done = subprocess.run([sys.executable, "-c", code, str(path), str(many)],
                          capture_output=True, text=True, timeout=20, check=True)
    assert done.stdout.split() == ["svg", "text"]
