"""Pillow rendering pieces: text layout, header text, image fitting, photo detection."""

from __future__ import annotations

from datetime import datetime

from PIL import Image

from faxcore.documents.model import HeaderSpec, PageGeometry, Paper, Quality
from faxcore.documents.raster import (
    fit_size,
    header_band,
    header_bands,
    header_text,
    is_photo,
    paginate,
    text_columns,
    wrap_lines,
)


def test_lines_wrap_at_spaces_tabs_expand_and_form_feeds_break_pages() -> None:
    lines = wrap_lines("a\tb\r\nword " * 3 + "\fnext", 10)
    assert lines[:2] == ["a       b", "word a  b"]
    assert None in lines
    assert lines[-1] == "next"
    assert wrap_lines("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_pages_fill_up_then_break_and_trailing_blank_pages_drop() -> None:
    lines: list[str | None] = ["l"] * 7 + [None, "after", None]
    assert paginate(lines, 2, 3) == [["l", "l"], ["l", "l", "l"], ["l", "l"], ["after"]]


def test_text_page_holds_about_ninety_columns() -> None:
    assert 85 <= text_columns() <= 100


def test_header_shows_date_text_tsi_and_page_of_pages() -> None:
    spec = HeaderSpec(text="ACME", tsi="+33 1 23", when=datetime(2026, 1, 2, 3, 4))
    assert header_text(spec, 2, 7) == ("02/01/2026 03:04  ACME", "+33 1 23  P.2/7")


def test_header_band_has_the_band_height_and_ink() -> None:
    geometry = PageGeometry(Quality.NORMAL, Paper.A4, with_header=True)
    band = header_band(HeaderSpec(text="A" * 300, tsi="B"), 1, 1, geometry)
    assert band.size == (1728, geometry.band_rows) == (1728, 17)
    assert band.convert("L").histogram()[0] > 100


def test_images_keep_their_physical_size_or_shrink_to_fit() -> None:
    geometry = PageGeometry(Quality.NORMAL, Paper.A4, with_header=False)
    assert fit_size(204, 98, (204.0, 98.0), geometry) == (204, 98)  # one inch square
    assert fit_size(4000, 3000, (72.0, 72.0), geometry) == (1728, 623)  # shrunk to the width
    assert fit_size(1000, 5000, (100.0, 100.0), geometry) == (477, 1146)  # to the height


def test_photo_means_many_mid_tones() -> None:
    gradient = Image.linear_gradient("L").resize((256, 256))
    text_like = Image.new("L", (256, 256), 255)
    text_like.paste(0, (10, 10, 100, 40))
    assert is_photo(gradient)
    assert not is_photo(text_like)


def test_stacked_header_bands_equal_bands_drawn_one_by_one() -> None:
    spec = HeaderSpec(text="ACME", tsi="+331", when=datetime(2026, 1, 2, 3, 4))
    for quality in (Quality.NORMAL, Quality.HIGH, Quality.PREMIUM):
        geometry = PageGeometry(quality, Paper.A4, with_header=True)
        rows = geometry.band_rows
        stacked = header_bands(spec, 12, geometry)
        assert stacked.size == (1728, 12 * rows)
        for page in (1, 7, 12):
            alone = header_band(spec, page, 12, geometry)
            assert stacked.crop((0, (page - 1) * rows, 1728, page * rows)).tobytes() == \
                alone.tobytes()
