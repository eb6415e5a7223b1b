"""Strip-level TIFF reading and writing, checked against libtiff (Pillow) and tiffinfo."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import pytest
from doc_samples import damaged_fax, tiff_directories
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from faxcore.documents.errors import TiffFormatError
from faxcore.documents.model import Compression
from faxcore.documents.raster import encode_bitmap
from faxcore.documents.tiff import CodedPage, TiffWriter, parse_tiff, stack_pages, write_tiff


def bitmap(rows: int, seed: int) -> Image.Image:
    image = Image.new("1", (1728, rows), 255)
    draw = ImageDraw.Draw(image)
    for i in range(0, 1700, 97):
        draw.rectangle((i, (i + seed) % rows, i + 40, min(rows - 1, (i + seed) % rows + 9)),
                       fill=0)
    return image


@pytest.mark.parametrize("compression", [Compression.G4, Compression.G3])
def test_header_strip_stacked_on_content_strips_decodes_to_both_bitmaps(
        tmp_path: Path, compression: Compression) -> None:
    top, bottom = bitmap(35, 3), bitmap(400, 11)
    band = encode_bitmap(top, strip_rows=35, compression=compression, x_dpi=204, y_dpi=196)
    body = encode_bitmap(bottom, strip_rows=35, compression=compression, x_dpi=204, y_dpi=196)
    assert len(body.strips) == 12  # 400 rows in strips of 35
    page = stack_pages(band, body)
    out = tmp_path / "p.tif"
    write_tiff(out, [page, page])
    expected = Image.new("1", (1728, 435), 255)
    expected.paste(top, (0, 0))
    expected.paste(bottom, (0, 35))
    with Image.open(out) as decoded:
        assert decoded.n_frames == 2
        assert decoded.convert("1").tobytes() == expected.tobytes()
    info = subprocess.run(["tiffinfo", str(out)], check=True, capture_output=True, text=True)
    assert "min-is-white" in info.stdout
    assert "Resolution: 204, 196 pixels/inch" in info.stdout
    assert "Page Number: 1-2" in info.stdout


def test_writer_output_reads_back_page_for_page() -> None:
    pages = [
        CodedPage(width=1728, height=3, compression=4, rows_per_strip=2,
                  strips=(b"\x01\x02\x03", b"\x04"), x_dpi=204, y_dpi=98),
        CodedPage(width=1728, height=1, compression=3, rows_per_strip=1,
                  strips=(b"\x05\x06",), x_dpi=204, y_dpi=391, t4_options=4),
    ]
    buf = io.BytesIO()
    writer = TiffWriter(buf)
    for i, page in enumerate(pages):
        writer.add(page, i, 2)
    data = buf.getvalue()
    assert data[:4] == b"II*\x00"
    assert parse_tiff(data) == pages


def test_big_endian_tiff_is_read() -> None:
    strip = b"\xaa\xbb"
    entries = [(256, 3, 1, 1728 << 16), (257, 3, 1, 1 << 16), (259, 3, 1, 4 << 16),
               (273, 4, 1, 8 + 2 + 12 * 5 + 4), (279, 4, 1, len(strip))]
    ifd = struct.pack(">H", len(entries)) + b"".join(
        struct.pack(">HHII", *e) for e in entries) + b"\0\0\0\0"
    data = b"MM\x00*" + struct.pack(">I", 8) + ifd + strip
    (page,) = parse_tiff(data)
    assert (page.width, page.height, page.compression, page.strips) == (1728, 1, 4, (strip,))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4", "not a TIFF file"),
        (b"II*\x00\x08\x00\x00\x00\x05\x00", "TIFF directory is truncated"),
        (b"II*\x00\x08\x00\x00\x00\x00\x00\x08\x00\x00\x00", "TIFF page lacks tag 256"),
        (b"II*\x00\x00\x00\x00\x00", "TIFF file has no pages"),
    ],
)
def test_damaged_tiffs_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(TiffFormatError) as info:
        parse_tiff(data)
    assert str(info.value) == message


def test_band_must_be_one_strip_of_the_content_strip_height() -> None:
    band = encode_bitmap(bitmap(20, 1), strip_rows=20, compression=Compression.G4,
                         x_dpi=204, y_dpi=98)
    body = encode_bitmap(bitmap(100, 1), strip_rows=18, compression=Compression.G4,
                         x_dpi=204, y_dpi=98)
    with pytest.raises(TiffFormatError,
                       match=r"^header band of 20 rows does not match strips of 18 rows$"):
        stack_pages(band, body)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=256) | tiff_directories() | damaged_fax())
def test_any_bytes_give_pages_or_a_tiff_format_error(data: bytes) -> None:
    try:
        pages = parse_tiff(data)
    except TiffFormatError:
        return
    assert pages and all(isinstance(page, CodedPage) for page in pages)
