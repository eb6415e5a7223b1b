"""Bilevel fax TIFF at the strip level: read coded pages, write multi-page files.

Pages are kept as their CCITT-coded strips, never decoded: a header band coded
as one strip is put in front of Ghostscript's strips of the same height, which
makes stamping a page cost a few hundred microseconds instead of a decode and
re-encode of the whole page. Each TIFF strip is coded independently (T.4/T.6
restart at a strip boundary), so the result is a valid page for libtiff,
spandsp and PDF converters.

Only what faxes need: classic TIFF, one sample of one bit, strips (no tiles).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from faxcore.documents.errors import TiffFormatError

# Tags
NEW_SUBFILE_TYPE = 254
IMAGE_WIDTH = 256
IMAGE_LENGTH = 257
BITS_PER_SAMPLE = 258
COMPRESSION = 259
PHOTOMETRIC = 262
FILL_ORDER = 266
STRIP_OFFSETS = 273
ORIENTATION = 274
SAMPLES_PER_PIXEL = 277
ROWS_PER_STRIP = 278
STRIP_BYTE_COUNTS = 279
X_RESOLUTION = 282
Y_RESOLUTION = 283
PLANAR_CONFIG = 284
T4_OPTIONS = 292
T6_OPTIONS = 293
RESOLUTION_UNIT = 296
PAGE_NUMBER = 297
SOFTWARE = 305

# Field types: size in bytes and struct code.
_TYPES = {1: (1, "B"), 2: (1, "s"), 3: (2, "H"), 4: (4, "I"), 5: (8, "II"), 7: (1, "B")}
SHORT, LONG, RATIONAL, ASCII = 3, 4, 5, 2

PHOTOMETRIC_MIN_IS_WHITE = 0
RESUNIT_INCH = 2
RESUNIT_CM = 3


@dataclass(frozen=True)
class CodedPage:
    """One page as CCITT-coded strips plus what is needed to decode them."""

    width: int
    height: int
    compression: int  # 3 = T.4 (G3), 4 = T.6 (G4)
    rows_per_strip: int
    strips: tuple[bytes, ...]
    x_dpi: float
    y_dpi: float
    t4_options: int = 0
    photometric: int = PHOTOMETRIC_MIN_IS_WHITE
    fill_order: int = 1


def _read_value(data: bytes, bo: str, ftype: int, count: int, value_at: int) -> tuple[int, ...]:
    size, code = _TYPES[ftype]
    total = size * count
    if total > 4:
        (offset,) = struct.unpack_from(bo + "I", data, value_at)
        value_at = offset
    if value_at + total > len(data):
        raise TiffFormatError("TIFF field points past the end of the file")
    if ftype == ASCII:
        return tuple(data[value_at:value_at + count])
    values = struct.unpack_from(bo + code * count, data, value_at)
    return tuple(values)


def _dpi(values: tuple[int, ...], unit: int) -> float:
    if len(values) < 2 or values[1] == 0:
        return 0.0
    value = values[0] / values[1]
    return value * 2.54 if unit == RESUNIT_CM else value


def parse_tiff(data: bytes) -> list[CodedPage]:
    """Every page of a bilevel TIFF as coded strips; ``TiffFormatError`` otherwise."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        raise TiffFormatError("not a TIFF file")
    bo = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(bo + "I", data, 4)
    pages: list[CodedPage] = []
    seen: set[int] = set()
    while offset:
        if offset in seen or offset + 2 > len(data):
            raise TiffFormatError("TIFF directory chain is broken")
        seen.add(offset)
        (count,) = struct.unpack_from(bo + "H", data, offset)
        if offset + 2 + 12 * count + 4 > len(data):
            raise TiffFormatError("TIFF directory is truncated")
        tags: dict[int, tuple[int, ...]] = {}
        for i in range(count):
            at = offset + 2 + 12 * i
            tag, ftype, n = struct.unpack_from(bo + "HHI", data, at)
            if ftype in _TYPES:
                tags[tag] = _read_value(data, bo, ftype, n, at + 8)
        pages.append(_page_from_tags(data, tags))
        (offset,) = struct.unpack_from(bo + "I", data, offset + 2 + 12 * count)
    if not pages:
        raise TiffFormatError("TIFF file has no pages")
    return pages


def _page_from_tags(data: bytes, tags: dict[int, tuple[int, ...]]) -> CodedPage:
    # A tag present with no value counts as absent: the caller's default applies.
    tags = {tag: values for tag, values in tags.items() if values}
    try:
        width = tags[IMAGE_WIDTH][0]
        height = tags[IMAGE_LENGTH][0]
        offsets = tags[STRIP_OFFSETS]
        counts = tags[STRIP_BYTE_COUNTS]
    except KeyError as exc:
        raise TiffFormatError(f"TIFF page lacks tag {exc.args[0]}") from exc
    if tags.get(BITS_PER_SAMPLE, (1,))[0] != 1:
        raise TiffFormatError("TIFF page is not bilevel")
    if len(offsets) != len(counts):
        raise TiffFormatError("TIFF strip tables disagree")
    strips = []
    for off, n in zip(offsets, counts, strict=True):
        if off + n > len(data):
            raise TiffFormatError("TIFF strip points past the end of the file")
        strips.append(data[off:off + n])
    unit = tags.get(RESOLUTION_UNIT, (RESUNIT_INCH,))[0]
    return CodedPage(
        width=width,
        height=height,
        compression=tags.get(COMPRESSION, (1,))[0],
        rows_per_strip=min(tags.get(ROWS_PER_STRIP, (height,))[0], height),
        strips=tuple(strips),
        x_dpi=_dpi(tags.get(X_RESOLUTION, ()), unit),
        y_dpi=_dpi(tags.get(Y_RESOLUTION, ()), unit),
        t4_options=tags.get(T4_OPTIONS, (0,))[0],
        photometric=tags.get(PHOTOMETRIC, (PHOTOMETRIC_MIN_IS_WHITE,))[0],
        fill_order=tags.get(FILL_ORDER, (1,))[0],
    )


def read_tiff(path: Path) -> list[CodedPage]:
    """Pages of the TIFF file at ``path``."""
    return parse_tiff(path.read_bytes())


def stack_pages(top: CodedPage, bottom: CodedPage) -> CodedPage:
    """One page made of ``top``'s strips followed by ``bottom``'s.

    Valid only when ``top`` is exactly one full strip of the common strip
    height, and both are coded alike; otherwise ``TiffFormatError``.
    """
    same = (
        top.width == bottom.width
        and top.compression == bottom.compression
        and top.t4_options == bottom.t4_options
        and top.photometric == bottom.photometric
        and top.fill_order == bottom.fill_order
    )
    if not same:
        raise TiffFormatError("pages to stack are coded differently")
    if len(top.strips) != 1 or top.height != bottom.rows_per_strip:
        raise TiffFormatError(
            f"header band of {top.height} rows does not match strips of "
            f"{bottom.rows_per_strip} rows"
        )
    return CodedPage(
        width=bottom.width,
        height=top.height + bottom.height,
        compression=bottom.compression,
        rows_per_strip=bottom.rows_per_strip,
        strips=top.strips + bottom.strips,
        x_dpi=bottom.x_dpi,
        y_dpi=bottom.y_dpi,
        t4_options=bottom.t4_options,
        photometric=bottom.photometric,
        fill_order=bottom.fill_order,
    )


def _rational(value: float) -> tuple[int, int]:
    return (round(value * 100), 100)


class TiffWriter:
    """Writes pages one by one to a little-endian multi-page TIFF (streaming).

    Each page is written in one piece: its directory first, then its strips,
    so every offset (including the next page's directory) is known up front
    and nothing is ever patched.
    """

    def __init__(self, stream: BinaryIO, software: str = "faxcore") -> None:
        self._f = stream
        self._software = software.encode("ascii", "replace") + b"\x00"
        self._f.write(b"II*\x00\x08\x00\x00\x00")  # first directory right after
        self._pos = 8
        self.pages = 0

    def _entries(self, page: CodedPage, offsets: tuple[int, ...], page_number: int,
                 page_count: int) -> list[tuple[int, int, tuple[int, ...] | bytes]]:
        entries: list[tuple[int, int, tuple[int, ...] | bytes]] = [
            (NEW_SUBFILE_TYPE, LONG, (2,)),
            (IMAGE_WIDTH, LONG, (page.width,)),
            (IMAGE_LENGTH, LONG, (page.height,)),
            (BITS_PER_SAMPLE, SHORT, (1,)),
            (COMPRESSION, SHORT, (page.compression,)),
            (PHOTOMETRIC, SHORT, (page.photometric,)),
            (FILL_ORDER, SHORT, (page.fill_order,)),
            (STRIP_OFFSETS, LONG, offsets),
            (ORIENTATION, SHORT, (1,)),
            (SAMPLES_PER_PIXEL, SHORT, (1,)),
            (ROWS_PER_STRIP, LONG, (page.rows_per_strip,)),
            (STRIP_BYTE_COUNTS, LONG, tuple(map(len, page.strips))),
            (X_RESOLUTION, RATIONAL, _rational(page.x_dpi)),
            (Y_RESOLUTION, RATIONAL, _rational(page.y_dpi)),
            (PLANAR_CONFIG, SHORT, (1,)),
        ]
        if page.compression == 3:
            entries.append((T4_OPTIONS, LONG, (page.t4_options,)))
        elif page.compression == 4:
            entries.append((T6_OPTIONS, LONG, (0,)))
        entries += [
            (RESOLUTION_UNIT, SHORT, (RESUNIT_INCH,)),
            (PAGE_NUMBER, SHORT, (page_number, page_count)),
            (SOFTWARE, ASCII, self._software),
        ]
        return entries

    def _directory(self, entries: list[tuple[int, int, tuple[int, ...] | bytes]],
                   ifd_at: int, next_ifd: int) -> bytes:
        extra_at = ifd_at + 2 + 12 * len(entries) + 4
        table = bytearray(struct.pack("<H", len(entries)))
        extra = bytearray()
        for tag, ftype, values in entries:
            if isinstance(values, bytes):
                raw, count = values, len(values)
            else:
                count = len(values) // (2 if ftype == RATIONAL else 1)
                raw = struct.pack("<" + _TYPES[ftype][1] * count, *values)
            table += struct.pack("<HHI", tag, ftype, count)
            if len(raw) <= 4:
                table += raw.ljust(4, b"\x00")
            else:
                table += struct.pack("<I", extra_at + len(extra))
                extra += raw
                if len(extra) % 2:
                    extra += b"\x00"
        table += struct.pack("<I", next_ifd)
        return bytes(table + extra)

    def add(self, page: CodedPage, page_number: int, page_count: int) -> None:
        """Append ``page`` as page ``page_number`` (0-based) of ``page_count``."""
        ifd_at = self._pos
        # The directory's size does not depend on the offsets' values: measure it first.
        placeholder = (0,) * len(page.strips)
        size = len(self._directory(self._entries(page, placeholder, page_number, page_count),
                                   ifd_at, 0))
        offsets = []
        at = ifd_at + size
        for strip in page.strips:
            offsets.append(at)
            at += len(strip) + (len(strip) % 2)
        last = page_number + 1 >= page_count
        directory = self._directory(
            self._entries(page, tuple(offsets), page_number, page_count), ifd_at,
            0 if last else at)
        chunks = [directory]
        for strip in page.strips:
            chunks.append(strip)
            if len(strip) % 2:
                chunks.append(b"\x00")
        self._f.write(b"".join(chunks))
        self._pos = at
        self.pages += 1


def write_tiff(path: Path, pages: Sequence[CodedPage]) -> None:
    """Write ``pages`` to ``path`` as one multi-page TIFF (used by tests)."""
    with path.open("wb") as f:
        writer = TiffWriter(f)
        for i, page in enumerate(pages):
            writer.add(page, i, len(pages))
