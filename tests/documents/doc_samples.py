"""Input documents for the pipeline tests, generated with real tools (fixture generators).

PDFs come from Ghostscript's pdfwrite (text and an embedded gray image),
images from Pillow, DOCX and ODT are written as the minimal zip packages the
standards define (LibreOffice opens them in the tests), encrypted PDFs from
pypdf.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
from pathlib import Path

import pypdf
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from faxcore.documents.tiff import CodedPage, write_tiff

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def postscript_pages(pages: int, paper: str = "a4") -> str:
    """A PostScript program: per page a title, text lines and an 8x8 gray image."""
    out = ["%!PS", "/Helvetica findfont 12 scalefont setfont"]
    for page in range(1, pages + 1):
        out.append(f"72 760 moveto (Test page {page} of {pages}) show")
        for n, y in enumerate(range(730, 400, -14)):
            out.append(f"72 {y} moveto (Line {n + 1}: the quick brown fox jumps.) show")
        # An embedded 8x8 gray ramp image scaled to 2 x 2 inches.
        out.append("gsave 300 150 translate 144 144 scale 8 8 8 [8 0 0 -8 0 8]")
        out.append("{<" + "".join(f"{v:02x}" for v in range(0, 256, 4)) + ">} image grestore")
        out.append("showpage")
    return "\n".join(out) + "\n"


def make_pdf(path: Path, pages: int, paper: str = "a4") -> Path:
    """Write a ``pages``-page PDF with Ghostscript."""
    ps = path.with_suffix(".ps")
    ps.write_text(postscript_pages(pages, paper), encoding="ascii")
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
         f"-sPAPERSIZE={paper}", f"-sOutputFile={path}", str(ps)],
        check=True, capture_output=True, timeout=60)
    ps.unlink()
    return path


def make_photo(path: Path, size: tuple[int, int] = (800, 600)) -> Path:
    """A photo-like JPEG: smooth color gradients, mostly mid-tones."""
    w, h = size
    image = Image.new("RGB", size)
    px = image.load()
    assert px is not None
    for y in range(h):
        for x in range(w):
            px[x, y] = (60 + x * 140 // w, 60 + y * 140 // h, 120)
    image.save(path, "JPEG", quality=90, dpi=(150, 150))
    return path


def make_text_image(path: Path) -> Path:
    """A text-like PNG: black letters and a frame on white, with an alpha channel."""
    image = Image.new("RGBA", (1000, 400), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 990, 390), outline=(0, 0, 0, 255), width=6)
    draw.text((40, 150), "PNG TEXT IMAGE", font=ImageFont.truetype(FONT, 80),
              fill=(0, 0, 0, 255))
    image.save(path, "PNG", dpi=(200, 200))
    return path


SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200mm" height="100mm" viewBox="0 0 200 100">
  <rect x="5" y="5" width="190" height="90" fill="none" stroke="black" stroke-width="2"/>
  <text x="20" y="55" font-family="DejaVu Sans" font-size="20">SVG drawing</text>
</svg>
"""

_DOCX_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""
_DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="word/document.xml"/>
</Relationships>"""


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    """A minimal WordprocessingML package (what python-docx would write, smaller)."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", _DOCX_TYPES)
        z.writestr("_rels/.rels", _DOCX_RELS)
        z.writestr("word/document.xml", document)
    return path


def make_encrypted_pdf(source: Path, path: Path) -> Path:
    """``source`` protected by a user password (pypdf, RC4-128: no extra crypto dependency)."""
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as f:
        writer.write(f)
    return path


def _small_fax_tiff() -> bytes:
    """A 40-row G4 fax page with a few black bars, as a received TIFF would hold."""
    image = Image.new("1", (1728, 40), 255)
    draw = ImageDraw.Draw(image)
    for x in range(0, 1700, 97):
        draw.rectangle((x, x % 30, x + 40, x % 30 + 9), fill=0)
    out = io.BytesIO()
    image.save(out, format="TIFF", compression="group4", dpi=(204, 196))
    return out.getvalue()


SMALL_FAX = _small_fax_tiff()
# Tags a fax page's directory holds, so fuzzed directories reach the page checks.
_FAX_TAGS = [254, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 282, 283, 292, 296]


@st.composite
def tiff_directories(draw: st.DrawFn) -> bytes:
    """A TIFF header and one directory of fax tags with arbitrary types, counts and values."""
    order = draw(st.sampled_from(["<", ">"]))
    entry = st.tuples(
        st.sampled_from(_FAX_TAGS) | st.integers(0, 0xFFFF),
        st.integers(0, 13),
        st.sampled_from([0, 1, 2, 3, 0xFFFFFFFF]) | st.integers(0, 0xFFFFFFFF),
        st.sampled_from([0, 1, 8, 40]) | st.integers(0, 0xFFFFFFFF))
    # The four tags every page needs, most often present, then anything.
    needed = [(tag, *rest) for tag in (256, 257, 273, 279) if draw(st.integers(0, 9))
              for rest in [draw(entry)[1:]]]
    entries = needed + draw(st.lists(entry, max_size=12))
    table = struct.pack(order + "H", len(entries)) + b"".join(
        struct.pack(order + "HHII", *entry) for entry in entries)
    tail = draw(st.binary(max_size=64))
    next_ifd = draw(st.sampled_from([0, 8]) | st.integers(0, 0xFFFFFFFF))
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    return magic + struct.pack(order + "I", 8) + table + struct.pack(order + "I", next_ifd) + tail


@st.composite
def damaged_fax(draw: st.DrawFn) -> bytes:
    """A real fax TIFF cut short and with some bytes overwritten."""
    data = bytearray(SMALL_FAX[: draw(st.integers(0, len(SMALL_FAX)))])
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def write_blank_fax(path: Path, rows_per_page: list[int]) -> None:
    """A G4 fax TIFF of blank pages of these heights, coded directly (nothing decoded).

    A blank row is one T.6 bit (V0) under a blank row, so a page of 110,000
    rows takes 14 KB here but 190 megapixels in any decoder.
    """
    pages = [CodedPage(width=1728, height=rows, compression=4, rows_per_strip=rows,
                       strips=(b"\xff" * (rows // 8) + b"\x00\x10\x01",), x_dpi=204, y_dpi=196)
             for rows in rows_per_page]
    write_tiff(path, pages)
