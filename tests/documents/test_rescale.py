"""A fax at a coarser resolution for a machine that refuses the finer one (issue 13 item 4)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from faxcore.documents import Compression
from faxcore.documents.convert import assemble
from faxcore.documents.model import X_DPI
from faxcore.documents.raster import encode_bitmap
from faxcore.documents.rescale import coarser
from faxcore.documents.tiff import read_tiff

WIDTH, FINE_ROWS = 1728, 2292
HAIRLINES = (101, 302, 1503)  # one-row strokes, as a table's rules or an underline


def _fine_page(tmp_path: Path, pages: int) -> Path:
    """A fine (196 lpi) fax whose pages carry one-row horizontal strokes and a block."""
    coded = []
    for page in range(pages):
        image = Image.new("1", (WIDTH, FINE_ROWS), 255)
        draw = ImageDraw.Draw(image)
        for row in HAIRLINES:
            draw.line([(200, row + page), (1500, row + page)], fill=0)
        draw.rectangle([300, 800, 700, 1000], fill=0)
        coded.append(encode_bitmap(image, strip_rows=FINE_ROWS, compression=Compression.G4,
                                   x_dpi=X_DPI, y_dpi=196))
    path = tmp_path / "fine.tif"
    assemble(path, coded, None)
    return path


async def test_a_fine_fax_becomes_standard_page_for_page_keeping_one_row_strokes(
        tmp_path: Path) -> None:
    source = _fine_page(tmp_path, 2)
    out = tmp_path / "fine.standard.tif"
    assert await coarser(source, out, 98) == 2
    pages = read_tiff(out)
    assert [(p.width, p.height, round(p.y_dpi)) for p in pages] == [(WIDTH, FINE_ROWS // 2, 98)] * 2
    with Image.open(out) as image:
        for number in range(2):
            image.seek(number)
            bitmap = image.convert("L")
            for row in HAIRLINES:
                # The stroke's row, halved: still black all along (not lost to gray).
                line = [bitmap.getpixel((x, (row + number) // 2)) for x in range(220, 1480, 10)]
                assert max(line) < 128, (number, row)
            # The block keeps its place and size, at half the rows.
            assert bitmap.getpixel((500, 450)) < 128 and bitmap.getpixel((500, 520)) > 128
