"""A fax TIFF at a coarser vertical resolution, for a receiver that refuses the finer one.

spandsp 0.0.6 sends a page at the resolution it was rendered at: a machine
that only takes standard (3.85 lines/mm) refuses a fine or superfine fax
(T.30 "resolution not supported"). The send queue then sends the same pages
squeezed to the resolution the machine takes, rendered from the fax itself
(its header band included), with the threshold that keeps one-pixel strokes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image, ImageSequence

from faxcore.documents import raster
from faxcore.documents.convert import assemble
from faxcore.documents.model import X_DPI, Compression


def coarser_sync(source: Path, out: Path, y_dpi: int) -> int:
    """Write ``source``'s pages at ``y_dpi`` lines per inch to ``out``; returns the page count."""
    pages = []
    with Image.open(source) as image:
        for frame in ImageSequence.Iterator(image):
            source_y = float(frame.info.get("dpi", (X_DPI, y_dpi))[1]) or y_dpi
            rows = max(1, round(frame.height * y_dpi / source_y))
            bitmap = raster.to_fax_grid(frame.convert("L"), rows)
            pages.append(raster.encode_bitmap(bitmap, strip_rows=rows,
                                              compression=Compression.G4,
                                              x_dpi=X_DPI, y_dpi=y_dpi))
    assemble(out, pages, None)
    return len(pages)


async def coarser(source: Path, out: Path, y_dpi: int) -> int:
    """``coarser_sync`` off the event loop (decoding and coding pages is CPU work)."""
    return await asyncio.to_thread(coarser_sync, source, out, y_dpi)
