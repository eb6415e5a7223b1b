"""Two fax sessions wired back to back in one process, on simulated time.

Used by the tests, ``faxcore bench fax`` and self-checks: it proves the whole
T.30 exchange (real spandsp modems or T.38 packets) without any network.
``loss_pattern`` (as in aiortc's test utils) is a cyclic sequence of booleans,
one per audio frame or T.38 packet and direction: True drops it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from faxcore.fax.errors import FaxStateError
from faxcore.fax.options import Resolution, SessionWire
from faxcore.fax.session import T38_TICK, FaxSession

FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_SECONDS = FRAME_SAMPLES / 8000
PAGE_WIDTH = 1728
# Rows of an A4 page (297 mm) at each resolution, and the TIFF dpi that says so.
PAGE_ROWS = {Resolution.STANDARD: 1143, Resolution.FINE: 2287, Resolution.SUPERFINE: 4573}
DPI = {
    Resolution.STANDARD: (204, 98),
    Resolution.FINE: (204, 196),
    Resolution.SUPERFINE: (204, 391),
}


def _losses(pattern: Sequence[bool] | None) -> Iterator[bool]:
    if not pattern:
        return itertools.repeat(False)
    return itertools.cycle(pattern)


def transfer(
    a: FaxSession,
    b: FaxSession,
    *,
    start: float = 0.0,
    max_seconds: float = 1800.0,
    loss_pattern: Sequence[bool] | None = None,
) -> float:
    """Pump media between ``a`` and ``b`` until both are done; return the end time.

    Raises :class:`FaxStateError` if they are still talking after
    ``max_seconds`` of simulated time (a hang the T.30 timers should prevent).
    """
    if a.options.wire is not b.options.wire:
        raise FaxStateError("both sessions must use the same transport")
    if a.options.wire is SessionWire.AUDIO:
        return _transfer_audio(a, b, start, max_seconds, loss_pattern)
    return _transfer_t38(a, b, start, max_seconds, loss_pattern)


def _transfer_audio(
    a: FaxSession,
    b: FaxSession,
    start: float,
    max_seconds: float,
    loss_pattern: Sequence[bool] | None,
) -> float:
    lose_ab = _losses(loss_pattern)
    lose_ba = _losses(loss_pattern)
    steps = int(max_seconds / FRAME_SECONDS)
    a_tx, b_tx = a.audio_to_send, b.audio_to_send
    a_rx, b_rx = a.receive_audio, b.receive_audio
    now = start
    if not loss_pattern:  # the benchmarked path: nothing but the four media calls
        for step in range(1, steps + 1):
            now = start + step * FRAME_SECONDS
            to_b = a_tx(FRAME_SAMPLES)
            to_a = b_tx(FRAME_SAMPLES)
            b_rx(to_b, now)
            a_rx(to_a, now)
            if a.done and b.done:
                return now
        raise FaxStateError(f"fax sessions still running after {max_seconds} s")
    for step in range(1, steps + 1):
        now = start + step * FRAME_SECONDS
        to_b = a_tx(FRAME_SAMPLES)
        to_a = b_tx(FRAME_SAMPLES)
        if next(lose_ab):
            b.lost_audio(FRAME_SAMPLES, now)
        else:
            b_rx(to_b, now)
        if next(lose_ba):
            a.lost_audio(FRAME_SAMPLES, now)
        else:
            a_rx(to_a, now)
        if a.done and b.done:
            return now
    raise FaxStateError(f"fax sessions still running after {max_seconds} s")


def _transfer_t38(
    a: FaxSession,
    b: FaxSession,
    start: float,
    max_seconds: float,
    loss_pattern: Sequence[bool] | None,
) -> float:
    lose_ab = _losses(loss_pattern)
    lose_ba = _losses(loss_pattern)
    seq_ab = 0
    seq_ba = 0
    steps = int(max_seconds / T38_TICK)
    now = start
    for step in range(1, steps + 1):
        now = start + step * T38_TICK
        a.handle_timer(now)
        b.handle_timer(now)
        for ifp in a.packets_to_send():
            if not next(lose_ab):
                b.receive_packet(ifp, seq_ab, now)
            seq_ab = (seq_ab + 1) & 0xFFFF
        for ifp in b.packets_to_send():
            if not next(lose_ba):
                a.receive_packet(ifp, seq_ba, now)
            seq_ba = (seq_ba + 1) & 0xFFFF
        if a.done and b.done:
            return now
    raise FaxStateError(f"fax sessions still running after {max_seconds} s")


def synthetic_page(resolution: Resolution, seed: int) -> Image.Image:
    """A 1-bit A4 page of text-like bars, different for each ``seed``."""
    rows = PAGE_ROWS[resolution]
    image = Image.new("1", (PAGE_WIDTH, rows), 255)
    draw = ImageDraw.Draw(image)
    line_height = max(rows // 60, 6)
    for index, y in enumerate(range(line_height * 4, rows - line_height * 4, line_height * 2)):
        x = 120
        word = (seed * 7919 + index * 104729) % 9973
        while x < PAGE_WIDTH - 200:
            width = 20 + word % 140
            draw.rectangle((x, y, x + width, y + line_height - 2), fill=0)
            x += width + 18 + (word >> 3) % 30
            word = (word * 31 + 17) % 9973
    draw.text((140, line_height), f"faxcore test page {seed}", fill=0)
    return image


def write_synthetic_document(
    path: Path, pages: int, resolution: Resolution = Resolution.FINE
) -> list[Image.Image]:
    """Write a ``pages``-page G4 fax TIFF at ``resolution``; return the pages."""
    if pages < 1:
        raise ValueError(f"a document needs at least one page, got {pages}")
    images = [synthetic_page(resolution, seed) for seed in range(1, pages + 1)]
    images[0].save(
        path,
        format="TIFF",
        compression="group4",
        save_all=True,
        append_images=images[1:],
        dpi=DPI[resolution],
    )
    return images
