"""convert_to_fax with real Ghostscript, LibreOffice, rsvg-convert and Pillow."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from doc_samples import postscript_pages
from PIL import Image

from faxcore.documents import (
    Compression,
    CorruptDocumentError,
    CoverPage,
    DocumentLimits,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    HeaderSpec,
    PageGeometry,
    Paper,
    Quality,
    UnsupportedDocumentError,
    convert_to_fax,
)
from faxcore.documents.tiff import read_tiff

Frames = Callable[[Path], list[Image.Image]]
HEADER = HeaderSpec(text="ACME SARL", tsi="+33 1 23 45 67 89", when=datetime(2026, 3, 4, 5, 6))


def black_pixels(image: Image.Image) -> int:
    """Number of black pixels of a 1-bit image."""
    return image.convert("L").histogram()[0]


def band(image: Image.Image, rows: int) -> Image.Image:
    return image.crop((0, 0, image.width, rows))


@pytest.mark.parametrize("quality", [Quality.NORMAL, Quality.HIGH, Quality.PREMIUM])
async def test_ten_page_pdf_becomes_ten_fax_pages_at_the_quality_resolution(
        samples: dict[str, Path], tmp_path: Path, frames: Frames, quality: Quality) -> None:
    out = tmp_path / "fax.tif"
    doc = await convert_to_fax([samples["ten.pdf"]], out, quality=quality, header=HEADER)
    geometry = PageGeometry(quality, Paper.A4, with_header=True)
    assert (doc.pages, doc.width, doc.resolution) == (10, 1728, (204, quality.y_dpi))
    pages = read_tiff(out)
    assert len(pages) == 10
    for page in pages:
        assert (page.width, page.height, page.compression) == (1728, geometry.height, 4)
        assert (round(page.x_dpi), round(page.y_dpi)) == (204, quality.y_dpi)
    for image in frames(out):
        assert image.size == (1728, geometry.height)
        assert black_pixels(band(image, geometry.band_rows)) > 100  # the header line
        assert black_pixels(image.crop((0, geometry.band_rows, 1728, geometry.height))) > 1000


async def test_header_says_page_n_of_m_so_every_band_differs(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    out = tmp_path / "fax.tif"
    await convert_to_fax([samples["ten.pdf"]], out, quality=Quality.HIGH, header=HEADER)
    rows = PageGeometry(Quality.HIGH, Paper.A4, True).band_rows
    bands = [band(image, rows).tobytes() for image in frames(out)]
    assert len(set(bands)) == 10


async def test_a4_and_letter_pages_have_their_own_length(
        samples: dict[str, Path], tmp_path: Path) -> None:
    a4 = await convert_to_fax([samples["one.pdf"]], tmp_path / "a4.tif", quality=Quality.HIGH)
    letter = await convert_to_fax([samples["letter.pdf"]], tmp_path / "letter.tif",
                                  quality=Quality.HIGH, paper=Paper.LETTER)
    assert (a4.page_lines, letter.page_lines) == (2292, 2156)
    assert read_tiff(a4.path)[0].height == 2292
    assert read_tiff(letter.path)[0].height == 2156


async def test_g3_option_writes_t4_pages_that_libtiff_decodes(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    g4 = await convert_to_fax([samples["one.pdf"]], tmp_path / "g4.tif",
                              quality=Quality.NORMAL, header=HEADER)
    g3 = await convert_to_fax([samples["one.pdf"]], tmp_path / "g3.tif", quality=Quality.NORMAL,
                              header=HEADER, compression=Compression.G3)
    assert read_tiff(g3.path)[0].compression == 3
    assert frames(g3.path)[0].tobytes() == frames(g4.path)[0].tobytes()


async def test_cover_page_comes_first_then_the_documents_in_order(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    pdf_only = await convert_to_fax([samples["one.pdf"]], tmp_path / "pdf.tif",
                                    quality=Quality.HIGH)
    png_only = await convert_to_fax([samples["text.png"]], tmp_path / "png.tif",
                                    quality=Quality.HIGH)
    cover = CoverPage(sender="Alice +33111111111", recipient="Bob +33222222222",
                      body="Two pages follow.", subject="Contract")
    doc = await convert_to_fax([samples["one.pdf"], samples["text.png"]], tmp_path / "all.tif",
                               quality=Quality.HIGH, cover=cover)
    assert doc.pages == 3
    pages = frames(doc.path)
    assert pages[1].tobytes() == frames(pdf_only.path)[0].tobytes()
    assert pages[2].tobytes() == frames(png_only.path)[0].tobytes()
    assert black_pixels(pages[0]) > 1000
    assert pages[0].tobytes() not in (pages[1].tobytes(), pages[2].tobytes())


async def test_cover_page_alone_is_a_fax(tmp_path: Path) -> None:
    cover = CoverPage(sender="Alice", recipient="Bob", body="line\n" * 80)
    doc = await convert_to_fax([], tmp_path / "cover.tif", quality=Quality.NORMAL, cover=cover)
    assert doc.pages == 2  # the long body continues on a second page


async def test_text_file_wraps_and_form_feeds_break_pages(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("Hello\n\tfax\nÉté 10 €\n", encoding="utf-8")
    assert (await convert_to_fax([short], tmp_path / "s.tif", quality=Quality.HIGH)).pages == 1
    ten = tmp_path / "ten.txt"
    ten.write_text("\f".join(f"page {n}\n" + "word " * 500 for n in range(10)), encoding="utf-8")
    assert (await convert_to_fax([ten], tmp_path / "t.tif", quality=Quality.HIGH)).pages == 10


async def test_photo_is_dithered_and_text_image_thresholded(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    photo = await convert_to_fax([samples["photo.jpg"]], tmp_path / "p.tif", quality=Quality.HIGH)
    image = frames(photo.path)[0]
    # 800x600 px at 150 dpi -> 1088 x 784 fax pixels, centred at the top.
    region = image.crop((400, 100, 1300, 700))
    ratio = black_pixels(region) / (region.width * region.height)
    assert 0.2 < ratio < 0.8  # mid-tones became a mix of black and white dots
    text = await convert_to_fax([samples["text.png"]], tmp_path / "t.tif", quality=Quality.HIGH)
    page = frames(text.path)[0]
    assert black_pixels(page.crop((0, 1000, 1728, 2292))) == 0  # white below the image
    assert 0 < black_pixels(page) < 0.1 * 1728 * 2292


async def test_best_quality_is_superfine_and_dithers_pdf_gray(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    premium = await convert_to_fax([samples["one.pdf"]], tmp_path / "p.tif",
                                   quality=Quality.PREMIUM)
    best = await convert_to_fax([samples["one.pdf"]], tmp_path / "b.tif", quality=Quality.BEST)
    assert best.resolution == premium.resolution == (204, 391)
    assert frames(best.path)[0].tobytes() != frames(premium.path)[0].tobytes()


async def test_svg_and_office_files_in_one_fax(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    doc = await convert_to_fax(
        [samples["drawing.svg"], samples["letter.docx"], samples["table.csv"],
         samples["memo.rtf"]],
        tmp_path / "office.tif", quality=Quality.NORMAL, header=HEADER)
    assert doc.pages == 4
    rows = PageGeometry(Quality.NORMAL, Paper.A4, True).band_rows
    for image in frames(doc.path):
        assert black_pixels(image.crop((0, rows, 1728, image.height))) > 200


async def test_postscript_renders_like_pdf(samples: dict[str, Path], tmp_path: Path) -> None:
    ps = tmp_path / "doc.ps"
    ps.write_text(postscript_pages(3), encoding="ascii")
    doc = await convert_to_fax([ps], tmp_path / "ps.tif", quality=Quality.NORMAL, header=HEADER)
    assert doc.pages == 3


async def test_type_comes_from_content_not_extension(
        samples: dict[str, Path], tmp_path: Path) -> None:
    disguised = tmp_path / "scan.pdf"
    disguised.write_bytes(samples["text.png"].read_bytes())
    doc = await convert_to_fax([disguised], tmp_path / "d.tif", quality=Quality.NORMAL)
    assert doc.pages == 1


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("encrypted.pdf", EncryptedDocumentError,
         "encrypted.pdf: the PDF is protected by a password; send it without password "
         "protection"),
        ("corrupt.pdf", CorruptDocumentError,
         "corrupt.pdf: the PDF is damaged and cannot be read"),
        ("empty.txt", EmptyDocumentError, "empty.txt: the document is empty"),
        ("blank.txt", EmptyDocumentError, "blank.txt: the document is empty"),
        ("binary.dat", UnsupportedDocumentError,
         "binary.dat: this file type cannot be faxed; supported: PDF, PostScript, images "
         "(BMP, JPEG, PNG, GIF, TIFF, SVG), plain text and office documents (DOC, DOCX, ODT, "
         "RTF, XLS, XLSX, ODS, CSV, PPT, PPTX, ODP)"),
    ],
)
async def test_bad_inputs_are_refused_with_a_clear_message(
        samples: dict[str, Path], tmp_path: Path, name: str, error: type[Exception],
        message: str) -> None:
    out = tmp_path / "fax.tif"
    with pytest.raises(error) as info:
        await convert_to_fax([samples[name]], out, quality=Quality.HIGH, header=HEADER)
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []


async def test_whitespace_text_with_content_beyond_sniff_is_empty(tmp_path: Path) -> None:
    spaces = tmp_path / "spaces.txt"
    spaces.write_text(" \n" * 10, encoding="utf-8")
    with pytest.raises(EmptyDocumentError, match=r"^spaces.txt: the document is empty$"):
        await convert_to_fax([spaces], tmp_path / "o.tif", quality=Quality.HIGH)


async def test_page_limit_refuses_before_rendering(
        samples: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DocumentTooLargeError) as info:
        await convert_to_fax([samples["one.pdf"], samples["ten.pdf"]], tmp_path / "o.tif",
                             quality=Quality.HIGH, limits=DocumentLimits(max_pages=5))
    assert str(info.value) == (
        "ten.pdf: too many pages: the fax would have 11 pages, at most 5 are allowed")


async def test_byte_limit_is_per_file(samples: dict[str, Path], tmp_path: Path) -> None:
    size = samples["ten.pdf"].stat().st_size
    with pytest.raises(DocumentTooLargeError, match=r"^ten.pdf: the file is 0.0 MB, more than"):
        await convert_to_fax([samples["ten.pdf"]], tmp_path / "o.tif", quality=Quality.HIGH,
                             limits=DocumentLimits(max_bytes=size - 1))


async def test_nothing_to_send_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match=r"^nothing to fax: no document and no cover"):
        await convert_to_fax([], tmp_path / "o.tif", quality=Quality.HIGH)


async def test_temporary_files_are_removed_after_success_and_failure(
        samples: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    await convert_to_fax([samples["one.pdf"], samples["letter.docx"], samples["photo.jpg"]],
                         out_dir / "ok.tif", quality=Quality.BEST, header=HEADER)
    with pytest.raises(CorruptDocumentError):
        await convert_to_fax([samples["one.pdf"], samples["corrupt.pdf"]], out_dir / "bad.tif",
                             quality=Quality.HIGH, header=HEADER)
    assert list(scratch.iterdir()) == []
    assert [p.name for p in out_dir.iterdir()] == ["ok.tif"]


async def test_pages_match_geometry_when_header_absent(
        samples: dict[str, Path], tmp_path: Path) -> None:
    doc = await convert_to_fax([samples["one.pdf"]], tmp_path / "o.tif", quality=Quality.HIGH)
    (page,) = read_tiff(doc.path)
    assert page.rows_per_strip == page.height == 2292
    assert len(page.strips) == 1
