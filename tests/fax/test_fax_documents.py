"""Mixed documents converted by faxcore.documents, then faxed back to back unchanged."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from faxcore.documents import Quality, convert_to_fax_sync
from faxcore.fax import Direction, FaxSession, FaxSessionOptions, SessionWire
from faxcore.fax.loopback import transfer

_DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    ),
    "word/document.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Facture 2026-117: montant 1 234,56 EUR.</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Merci de votre confiance.</w:t></w:r></w:p></w:body></w:document>"
    ),
}


def _make_inputs(folder: Path) -> list[Path]:
    pdf_page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(pdf_page)
    draw.text((100, 100), "Bon de commande 42", fill="black")
    for x in range(0, 600, 4):  # a gray ramp: an image inside the PDF
        draw.rectangle((100 + x, 300, 103 + x, 700), fill=(x // 3, x // 3, x // 3))
    pdf = folder / "order.pdf"
    pdf_page.save(pdf, "PDF", resolution=150.0)

    photo = Image.new("RGB", (800, 600))
    photo.putdata(
        [((x * 3) % 256, (y * 2) % 256, (x + y) % 256) for y in range(600) for x in range(800)]
    )
    jpeg = folder / "photo.jpg"
    photo.save(jpeg, "JPEG", quality=85)

    docx = folder / "invoice.docx"
    with zipfile.ZipFile(docx, "w") as archive:
        for name, text in _DOCX_PARTS.items():
            archive.writestr(name, text)

    txt = folder / "note.txt"
    txt.write_text("Bonjour,\nci-joint la commande et la facture.\n" * 5, encoding="utf-8")
    return [pdf, jpeg, docx, txt]


@pytest.mark.slow
def test_converted_mixed_documents_arrive_pixel_equal(tmp_path: Path) -> None:
    document = convert_to_fax_sync(
        _make_inputs(tmp_path), tmp_path / "fax.tif", quality=Quality.HIGH
    )
    assert document.pages >= 4
    sender = FaxSession(
        FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, document.path, local_ident="+3312"),
        now=0.0,
    )
    receiver = FaxSession(
        FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "recv.tif"), now=0.0
    )
    with sender, receiver:
        transfer(sender, receiver)
    assert receiver.result is not None and receiver.result.success, receiver.result
    assert receiver.result.pages == document.pages
    with Image.open(document.path) as sent, Image.open(tmp_path / "recv.tif") as got:
        assert getattr(got, "n_frames", 1) == document.pages
        for index in range(document.pages):
            sent.seek(index)
            got.seek(index)
            assert got.size == sent.size, f"page {index + 1}"
            difference = ImageChops.difference(got.convert("1"), sent.convert("1"))
            assert difference.getbbox() is None, f"page {index + 1}"
