"""Fax TIFFs made here go through real spandsp modems unchanged, and come back as PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pypdf
from PIL import Image

from faxcore.documents import HeaderSpec, Quality, convert_to_fax, tiff_to_pdf
from faxcore.fax.loopback import transfer
from faxcore.fax.options import Direction, FaxSessionOptions, SessionWire
from faxcore.fax.session import FaxSession

Frames = Callable[[Path], list[Image.Image]]


async def test_converted_fax_is_sent_by_spandsp_pixel_for_pixel_and_received_as_pdf(
        samples: dict[str, Path], tmp_path: Path, frames: Frames) -> None:
    header = HeaderSpec(text="ACME", tsi="+33100000000", when=datetime(2026, 5, 6, 7, 8))
    doc = await convert_to_fax([samples["one.pdf"], samples["photo.jpg"]], tmp_path / "tx.tif",
                               quality=Quality.HIGH, header=header)
    received = tmp_path / "rx.tif"
    sender = FaxSession(FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, doc.path,
                                          local_ident="+33100000000", ecm=True), now=0.0)
    receiver = FaxSession(FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, received,
                                            local_ident="+33200000000", ecm=True), now=0.0)
    with sender, receiver:
        transfer(sender, receiver, max_seconds=600)
    assert receiver.result is not None and receiver.result.success
    assert receiver.result.pages == doc.pages == 2
    sent = frames(doc.path)
    assert [f.tobytes() for f in frames(received)] == [f.tobytes() for f in sent]
    # The received file (spandsp's T.4 2-D, LSB-first) becomes a PDF without pixel loss.
    pdf = tmp_path / "rx.pdf"
    assert await tiff_to_pdf(received, pdf) == 2
    images = [p.images[0].image.convert("1") for p in pypdf.PdfReader(pdf).pages]
    assert [i.tobytes() for i in images] == [f.tobytes() for f in sent]
