"""Received fax TIFF -> PDF: lossless, page size from the TIFF's resolution."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdf
import pytest
from doc_samples import damaged_fax, tiff_directories, write_blank_fax
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from faxcore.documents import (
    Compression,
    EmptyDocumentError,
    EncryptedDocumentError,
    HeaderSpec,
    Quality,
    TiffFormatError,
    convert_to_fax,
    tiff_to_pdf,
    tiff_to_pdf_sync,
)
from faxcore.documents.pdf import inspect_pdf
from faxcore.documents.tiff import read_tiff

Frames = Callable[[Path], list[Image.Image]]


def pdf_images(pdf: Path) -> list[Image.Image]:
    """The image of every page, decoded from the PDF's own streams by pypdf."""
    reader = pypdf.PdfReader(pdf)
    return [page.images[0].image.convert("1") for page in reader.pages]


async def test_g4_fax_goes_into_the_pdf_byte_for_byte(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    fax = await convert_to_fax([samples["ten.pdf"]], tmp_path / "fax.tif", quality=Quality.HIGH)
    pdf = tmp_path / "fax.pdf"
    assert await tiff_to_pdf(fax.path, pdf) == 10
    strips = [page.strips[0] for page in read_tiff(fax.path)]
    with pikepdf.open(pdf) as document:
        for page, strip in zip(document.pages, strips, strict=True):
            (xobject,) = page.get_images().values()
            assert xobject.Filter in (pikepdf.Name.CCITTFaxDecode,
                                      pikepdf.Array([pikepdf.Name.CCITTFaxDecode]))
            assert xobject.read_raw_bytes() == strip
    for decoded, original in zip(pdf_images(pdf), frames(fax.path), strict=True):
        assert decoded.tobytes() == original.tobytes()


@pytest.mark.parametrize("compression", [Compression.G4, Compression.G3])
async def test_multi_strip_and_g3_faxes_keep_every_pixel(
        samples: dict[str, Path], tmp_path: Path, frames: Frames,
        compression: Compression) -> None:
    fax = await convert_to_fax([samples["one.pdf"], samples["photo.jpg"]], tmp_path / "f.tif",
                               quality=Quality.NORMAL, compression=compression,
                               header=HeaderSpec(text="ACME", tsi="+331"))
    pdf = tmp_path / "f.pdf"
    assert await tiff_to_pdf(fax.path, pdf) == 2
    for decoded, original in zip(pdf_images(pdf), frames(fax.path), strict=True):
        assert decoded.tobytes() == original.tobytes()


async def test_standard_resolution_page_is_full_height_in_the_pdf(
        samples: dict[str, Path], tmp_path: Path) -> None:
    fax = await convert_to_fax([samples["one.pdf"]], tmp_path / "f.tif", quality=Quality.NORMAL)
    pdf = tmp_path / "f.pdf"
    await tiff_to_pdf(fax.path, pdf)
    box = pypdf.PdfReader(pdf).pages[0].mediabox
    assert float(box.width) == pytest.approx(1728 / 204 * 72, abs=0.01)  # 215 mm
    assert float(box.height) == pytest.approx(1146 / 98 * 72, abs=0.01)  # 297 mm, A4


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
async def test_damaged_tiff_is_refused_and_no_pdf_is_left(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\xff" * 20)
    pdf = tmp_path / "bad.pdf"
    with pytest.raises(TiffFormatError, match=r"^bad.tif: not a readable TIFF file$"):
        await tiff_to_pdf(bad, pdf)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tif"]


def test_pdf_inspection_counts_pages_and_refuses_locked_files(samples: dict[str, Path]) -> None:
    assert inspect_pdf(samples["ten.pdf"]).pages == 10
    with pytest.raises(EncryptedDocumentError):
        inspect_pdf(samples["encrypted.pdf"])


def test_pdf_without_pages_is_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    writer = pypdf.PdfWriter()
    with empty.open("wb") as f:
        writer.write(f)
    with pytest.raises(EmptyDocumentError, match=r"^empty.pdf: the PDF has no pages$"):
        inspect_pdf(empty)


def test_a_page_longer_than_allowed_is_refused_before_any_decoding(tmp_path: Path) -> None:
    tiff, pdf = tmp_path / "long.tif", tmp_path / "long.pdf"
    write_blank_fax(tiff, [2296, 110_000])  # an A4 page, then 14 m of paper
    with pytest.raises(TiffFormatError,
                       match=r"^long.tif page 2: the page is 14255 mm long, longer than 1188 mm$"):
        tiff_to_pdf_sync(tiff, pdf, max_length_mm=1188)
    assert not pdf.exists()


def test_a_decompression_bomb_is_a_tiff_format_error_even_without_a_length_limit(
        tmp_path: Path) -> None:
    tiff, pdf = tmp_path / "bomb.tif", tmp_path / "bomb.pdf"
    write_blank_fax(tiff, [110_000])  # 190 megapixels: Pillow refuses to open it
    with pytest.raises(TiffFormatError, match=r"^bomb.tif: the fax image cannot be read$"):
        tiff_to_pdf_sync(tiff, pdf)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tif"]


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=256) | tiff_directories() | damaged_fax())
def test_any_received_tiff_gives_a_pdf_or_a_tiff_format_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tiff, pdf = Path(folder) / "r.tif", Path(folder) / "r.pdf"
        tiff.write_bytes(data)
        try:
            pages = tiff_to_pdf_sync(tiff, pdf, max_length_mm=1188)
        except TiffFormatError:
            assert not pdf.exists()
            return
        assert len(pypdf.PdfReader(pdf).pages) == pages
