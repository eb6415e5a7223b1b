"""Fixtures of the document tests: generated samples, TIFF page decoding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from doc_samples import SVG, make_docx, make_encrypted_pdf, make_pdf, make_photo, make_text_image
from PIL import Image


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One of each input kind, generated once per test session."""
    d = tmp_path_factory.mktemp("samples")
    one = make_pdf(d / "one.pdf", 1)
    ten = make_pdf(d / "ten.pdf", 10)
    (d / "notes.txt").write_text("Hello fax\n\tindented line\nÉté à Paris – 10 €\n",
                                 encoding="utf-8")
    (d / "table.csv").write_text("name,number\nAlice,+33123456789\nBob,+33987654321\n",
                                 encoding="utf-8")
    (d / "drawing.svg").write_text(SVG, encoding="utf-8")
    (d / "memo.rtf").write_text(r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}}"
                                r"\f0\fs24 RTF memo\par Second line\par}", encoding="ascii")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_text("  \n\n \t\n", encoding="utf-8")
    (d / "corrupt.pdf").write_bytes(ten.read_bytes()[: ten.stat().st_size // 2])
    (d / "binary.dat").write_bytes(bytes(range(256)) * 8)
    return {
        "one.pdf": one,
        "ten.pdf": ten,
        "letter.pdf": make_pdf(d / "letter.pdf", 1, "letter"),
        "photo.jpg": make_photo(d / "photo.jpg"),
        "text.png": make_text_image(d / "text.png"),
        "notes.txt": d / "notes.txt",
        "table.csv": d / "table.csv",
        "drawing.svg": d / "drawing.svg",
        "memo.rtf": d / "memo.rtf",
        "letter.docx": make_docx(d / "letter.docx", ["Dear Bob,", "Please find the fax.",
                                                     "Regards, Alice"]),
        "encrypted.pdf": make_encrypted_pdf(one, d / "encrypted.pdf"),
        "corrupt.pdf": d / "corrupt.pdf",
        "empty.txt": d / "empty.txt",
        "blank.txt": d / "blank.txt",
        "binary.dat": d / "binary.dat",
    }


@pytest.fixture
def frames() -> Callable[[Path], list[Image.Image]]:
    """Decode every page of a TIFF with Pillow (libtiff), as 1-bit images."""

    def read(path: Path) -> list[Image.Image]:
        out = []
        with Image.open(path) as image:
            for i in range(getattr(image, "n_frames", 1)):
                image.seek(i)
                out.append(image.convert("1").copy())
        return out

    return read
