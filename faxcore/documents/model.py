"""Value types of the document pipeline: quality, paper, page geometry, results.

Fax pages are 1728 pixels wide at 204 dpi across (T.4's 215 mm scan line);
the vertical resolution depends on the quality (SPEC S2). The header line is
a band of its own at the top of each page, so it never covers the document.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faxcore.config import DocumentsConfig

FAX_WIDTH = 1728
X_DPI = 204
BYTES_PER_ROW = FAX_WIDTH // 8
MM_PER_INCH = 25.4
# Height of the header band (real fax machines print about 4-5 mm).
HEADER_MM = 4.5


class Quality(enum.Enum):
    """Fax quality (SPEC S2).

    ``best`` uses the premium (superfine) resolution and additionally renders
    every page in grayscale and error-diffuses it (Floyd-Steinberg), instead of
    Ghostscript's ordered halftone for PDF pages and thresholding for
    text-like images: photos and gray areas keep their tones, at the price of a
    slower conversion and larger pages.
    """

    NORMAL = "normal"
    HIGH = "high"
    PREMIUM = "premium"
    BEST = "best"

    @property
    def y_dpi(self) -> int:
        """Vertical lines per inch: standard 3.85, fine 7.7, superfine 15.4 lines/mm."""
        return {"normal": 98, "high": 196, "premium": 391, "best": 391}[self.value]

    @property
    def dither_everything(self) -> bool:
        """Whether every page goes through grayscale + Floyd-Steinberg."""
        return self is Quality.BEST


class Paper(enum.Enum):
    """Page length of the fax (the width is always the fax scan line)."""

    A4 = "a4"
    LETTER = "letter"

    @property
    def height_mm(self) -> float:
        return {"a4": 297.0, "letter": 279.4}[self.value]


class Compression(enum.Enum):
    """How pages are coded in the TIFF: T.6 (G4, default) or T.4 1D (G3)."""

    G4 = "g4"
    G3 = "g3"


@dataclass(frozen=True)
class PageGeometry:
    """Pixel layout of every page of one fax: size, header band, content area."""

    quality: Quality
    paper: Paper
    with_header: bool

    @property
    def x_dpi(self) -> int:
        return X_DPI

    @property
    def y_dpi(self) -> int:
        return self.quality.y_dpi

    @property
    def width(self) -> int:
        return FAX_WIDTH

    @property
    def height(self) -> int:
        """Lines per page."""
        return round(self.paper.height_mm / MM_PER_INCH * self.y_dpi)

    @property
    def band_rows(self) -> int:
        """Lines of the header band (0 without header)."""
        if not self.with_header:
            return 0
        return round(HEADER_MM / MM_PER_INCH * self.y_dpi)

    @property
    def content_rows(self) -> int:
        """Lines left for the document below the header band."""
        return self.height - self.band_rows

    @property
    def strip_rows(self) -> int:
        """Rows per TIFF strip: the band height, so the header is a strip of its own."""
        return self.band_rows if self.with_header else self.height


@dataclass(frozen=True)
class HeaderSpec:
    """The line's page header (SPEC S3): text, transmit id (TSI) and time."""

    text: str
    tsi: str
    when: datetime = field(default_factory=datetime.now)
    date_format: str = "%d/%m/%Y %H:%M"


@dataclass(frozen=True)
class CoverPage:
    """A cover page made from a text body (e-mail to fax, SPEC E6)."""

    sender: str
    recipient: str
    body: str
    subject: str = ""
    when: datetime = field(default_factory=datetime.now)


@dataclass(frozen=True)
class DocumentLimits:
    """What one fax may contain and cost; beyond, the send is refused before dialling.

    The converter limits hold for every run of Ghostscript, LibreOffice,
    rsvg-convert and the PDF probe (see ``tools.confine_argv``); ``work_mb``
    bounds the private temporary folder of one conversion as it fills.
    """

    max_pages: int = 100
    max_bytes: int = 20 * 1024 * 1024  # per input file
    # Seconds a single converter run may take (LibreOffice, Ghostscript).
    tool_timeout: float = 120.0
    # CPU seconds, address space and largest written file of one converter run.
    tool_cpu_seconds: int = 120
    tool_memory_mb: int = 2048
    tool_file_mb: int = 256
    # Everything one conversion may write into its temporary folder at once.
    work_mb: int = 1024
    # What the members of an office file (a zip) may unpack to, together.
    max_unpacked_mb: int = 256

    @classmethod
    def of(cls, config: DocumentsConfig) -> DocumentLimits:
        """The limits of the ``documents`` configuration section."""
        return cls(max_pages=config.max_pages, max_bytes=config.max_file_mb * 1024 * 1024,
                   tool_timeout=config.tool_timeout, tool_cpu_seconds=config.tool_cpu_seconds,
                   tool_memory_mb=config.tool_memory_mb, tool_file_mb=config.tool_file_mb,
                   work_mb=config.work_mb, max_unpacked_mb=config.max_unpacked_mb)


@dataclass(frozen=True)
class FaxDocument:
    """A fax-ready TIFF and what the sender needs to know before dialling."""

    path: Path
    pages: int
    quality: Quality
    paper: Paper
    compression: Compression
    width: int
    page_lines: int
    x_dpi: int
    y_dpi: int

    @property
    def resolution(self) -> tuple[int, int]:
        return (self.x_dpi, self.y_dpi)
