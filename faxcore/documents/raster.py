"""Pillow side of the pipeline: header bands, text and cover pages, images.

Everything here is synchronous CPU work on in-memory bitmaps (run it in a
thread from async code). Text is drawn on a square 204x204 dpi grayscale
canvas, then scaled to the fax's vertical resolution and thresholded, so
letters keep their shape at 98 and 391 lines per inch alike.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from PIL import (
    Image,
    ImageChops,
    ImageDraw,
    ImageFont,
    ImageOps,
    ImageSequence,
    UnidentifiedImageError,
)

from faxcore.documents.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    ToolMissingError,
)
from faxcore.documents.model import (
    BYTES_PER_ROW,
    FAX_WIDTH,
    X_DPI,
    Compression,
    CoverPage,
    HeaderSpec,
    PageGeometry,
)
from faxcore.documents.tiff import PHOTOMETRIC_MIN_IS_WHITE, CodedPage, parse_tiff

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MONO_FONT = "DejaVuSansMono.ttf"
SANS_FONT = "DejaVuSans.ttf"
BOLD_FONT = "DejaVuSans-Bold.ttf"

# Text pages: 10 pt monospace, 1.2 line spacing, 10 mm side margins, 7.5 mm top/bottom.
TEXT_PT = 10.0
LINE_SPACING = 1.2
SIDE_MARGIN_PX = 80
TOP_MARGIN_PX = 60
TAB_SIZE = 8

# Images: pixels whose gray level is in this range count as mid-tones; an image
# with more than PHOTO_FRACTION of them is a photo (dithered), else thresholded.
MID_TONES = range(48, 208)
PHOTO_FRACTION = 0.10
# Resolution assumed for images that do not say theirs.
DEFAULT_IMAGE_DPI = 96.0
# Largest image decoded (in faxcore's process): a 600 dpi A4 scan is 35 MP, a
# phone photo up to 50. Checked from the header before any pixel is decoded;
# Pillow's own bomb check only refuses from 179 MP (716 MB as RGBA).
MAX_IMAGE_PIXELS = 60_000_000

_THRESHOLD = [0] * 128 + [255] * 128
_SQUEEZED_THRESHOLD = [0] * 200 + [255] * 56


def _pt_to_px(points: float) -> int:
    return round(points / 72 * X_DPI)


@lru_cache(maxsize=16)
def font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    """A DejaVu font at ``size_px`` pixels (fonts-dejavu-core)."""
    path = FONT_DIR / name
    try:
        return ImageFont.truetype(str(path), size_px)
    except OSError as exc:
        raise ToolMissingError(f"font {path} is missing (install fonts-dejavu-core)") from exc


def to_bilevel(gray: Image.Image, dither: bool) -> Image.Image:
    """Grayscale to 1-bit: Floyd-Steinberg for photos, a threshold for text."""
    if dither:
        return gray.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    return gray.point(_THRESHOLD, "1")


def encode_bitmap(bitmap: Image.Image, *, strip_rows: int, compression: Compression,
                  x_dpi: float, y_dpi: float) -> CodedPage:
    """Code a 1-bit image as fax strips (``strip_rows`` rows each), min-is-white."""
    # Pillow's "1" stores white as 1; fax coding wants 0 = white, so code the
    # inverted image and label it min-is-white.
    inverted = ImageChops.invert(bitmap.convert("1"))
    buf = io.BytesIO()
    options: dict[str, object] = {
        "compression": "group4" if compression is Compression.G4 else "group3",
        "strip_size": strip_rows * BYTES_PER_ROW,
        "dpi": (x_dpi, y_dpi),
    }
    if compression is Compression.G3:
        options["tiffinfo"] = {292: 4}  # T4Options: fill bits, as Ghostscript writes
    inverted.save(buf, format="TIFF", **options)
    (page,) = parse_tiff(buf.getvalue())
    return replace(page, photometric=PHOTOMETRIC_MIN_IS_WHITE, x_dpi=x_dpi, y_dpi=y_dpi)


def _square_rows(rows: int, y_dpi: int) -> int:
    return max(1, round(rows * X_DPI / y_dpi))


def to_fax_grid(canvas: Image.Image, rows: int) -> Image.Image:
    """Scale a square-pixel grayscale canvas to ``rows`` fax lines and threshold.

    Squeezing text to half height (98 lpi) turns one-pixel horizontal strokes
    into light gray; a lighter threshold keeps them (an E stays an E).
    """
    if canvas.height == rows:
        return to_bilevel(canvas, dither=False)
    if canvas.height > rows:
        squeezed = canvas.resize((canvas.width, rows), Image.Resampling.BOX)
        return squeezed.point(_SQUEEZED_THRESHOLD, "1")
    return to_bilevel(canvas.resize((canvas.width, rows), Image.Resampling.BILINEAR), False)


def header_text(spec: HeaderSpec, page: int, pages: int) -> tuple[str, str]:
    """Left and right parts of the header line of page ``page`` (1-based)."""
    left = f"{spec.when.strftime(spec.date_format)}  {spec.text}".rstrip()
    right = f"{spec.tsi}  P.{page}/{pages}".strip()
    return left, right


def _header_template(spec: HeaderSpec, pages: int,
                     square: int) -> tuple[Image.Image, ImageFont.FreeTypeFont, float]:
    """A band with everything but the page number, the font, and where ``n/m`` goes.

    The right block is laid out for the widest number (``m/m``), so the TSI
    stays in a fixed column on every page, as on a fax machine.
    """
    size = max(8, round(square * 0.72))
    face = font(MONO_FONT, size)
    left, right = header_text(spec, pages, pages)
    prefix = right[: right.rindex("P.") + 2]
    margin = 24
    template = Image.new("L", (FAX_WIDTH, square), 255)
    draw = ImageDraw.Draw(template)
    right_x = FAX_WIDTH - margin - draw.textlength(right, font=face)
    room = right_x - margin - face.getlength("  ")
    while left and draw.textlength(left, font=face) > room:
        left = left[:-1]
    top = (square - size) // 2
    draw.text((margin, top), left, font=face, fill=0)
    draw.text((right_x, top), prefix, font=face, fill=0)
    return template, face, right_x + draw.textlength(prefix, font=face)


def header_bands(spec: HeaderSpec, pages: int, geometry: PageGeometry,
                 first: int = 1, count: int | None = None) -> Image.Image:
    """Header bands of pages ``first``.. (all ``pages`` by default) stacked in one 1-bit image.

    The band without its page number is drawn and scaled once; per page only
    the small ``n/m`` is drawn and pasted. One image for all pages is then
    coded in one go (a strip per band): a fraction of the cost of drawing and
    coding every band from scratch.
    """
    count = pages - first + 1 if count is None else count
    rows = geometry.band_rows
    square = _square_rows(rows, geometry.y_dpi)
    template, face, number_x = _header_template(spec, pages, square)
    band = to_fax_grid(template, rows)
    top = (square - face.size) // 2
    number_w = int(face.getlength(f"{pages}/{pages}")) + 8
    canvas = Image.new("1", (FAX_WIDTH, rows * count), 255)
    for index in range(count):
        y = index * rows
        canvas.paste(band, (0, y))
        number = Image.new("L", (number_w, square), 255)
        ImageDraw.Draw(number).text((0, top), f"{first + index}/{pages}", font=face, fill=0)
        canvas.paste(to_fax_grid(number, rows), (round(number_x), y))
    return canvas


def header_band(spec: HeaderSpec, page: int, pages: int, geometry: PageGeometry) -> Image.Image:
    """The 1-bit header band of one page: date, header text, TSI, page n/m (used by tests)."""
    return header_bands(spec, pages, geometry, first=page, count=1)


# --- text -----------------------------------------------------------------------------------


def _text_metrics() -> tuple[ImageFont.FreeTypeFont, int, int]:
    size = _pt_to_px(TEXT_PT)
    face = font(MONO_FONT, size)
    char_w = face.getlength("M")
    cols = int((FAX_WIDTH - 2 * SIDE_MARGIN_PX) // char_w)
    return face, cols, round(size * LINE_SPACING)


def text_columns() -> int:
    """Characters per line of a text page."""
    return _text_metrics()[1]


def text_rows(geometry: PageGeometry, top_px: int = TOP_MARGIN_PX) -> int:
    """Lines of text that fit below ``top_px`` (square pixels) on a content area."""
    _, _, line_h = _text_metrics()
    usable = _square_rows(geometry.content_rows, geometry.y_dpi) - top_px - TOP_MARGIN_PX
    return max(1, usable // line_h)


def wrap_lines(text: str, cols: int) -> list[str | None]:
    """Text as display lines of at most ``cols`` characters; ``None`` marks a page break.

    Tabs expand to 8 columns, form feeds break pages, long lines wrap at
    spaces (or hard when a word is longer than a line).
    """
    out: list[str | None] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for chunk_no, chunk in enumerate(text.split("\f")):
        if chunk_no:
            out.append(None)
        lines = chunk.split("\n")
        if chunk_no and lines and lines[0] == "":
            lines = lines[1:]
        for line in lines:
            line = line.expandtabs(TAB_SIZE).rstrip()
            if len(line) <= cols:
                out.append(line)
                continue
            out.extend(textwrap.wrap(line, cols, replace_whitespace=False,
                                     drop_whitespace=True, break_long_words=True,
                                     break_on_hyphens=False) or [""])
    return out


def paginate(lines: list[str | None], first_rows: int, rows: int) -> list[list[str]]:
    """Split display lines into pages: ``first_rows`` on the first, ``rows`` after."""
    pages: list[list[str]] = [[]]
    for line in lines:
        limit = first_rows if len(pages) == 1 else rows
        if line is None:
            pages.append([])
            continue
        if len(pages[-1]) >= limit:
            pages.append([])
        pages[-1].append(line)
    while len(pages) > 1 and not any(s.strip() for s in pages[-1]):
        pages.pop()
    return pages


def text_page(lines: list[str], geometry: PageGeometry, top_px: int = TOP_MARGIN_PX,
              canvas: Image.Image | None = None) -> Image.Image:
    """One content-area bitmap with ``lines`` in monospace."""
    face, _, line_h = _text_metrics()
    if canvas is None:
        canvas = Image.new("L", (FAX_WIDTH, _square_rows(geometry.content_rows, geometry.y_dpi)),
                           255)
    draw = ImageDraw.Draw(canvas)
    y = top_px
    for line in lines:
        if line:
            draw.text((SIDE_MARGIN_PX, y), line, font=face, fill=0)
        y += line_h
    return to_fax_grid(canvas, geometry.content_rows)


# --- cover page -----------------------------------------------------------------------------


def _cover_fields(cover: CoverPage, pages: int) -> list[tuple[str, str]]:
    fields = [
        ("From", cover.sender),
        ("To", cover.recipient),
        ("Date", cover.when.strftime("%d/%m/%Y %H:%M")),
        ("Pages", f"{pages} (including this one)"),
    ]
    if cover.subject:
        fields.append(("Subject", cover.subject))
    return fields


def _cover_top(cover: CoverPage) -> int:
    """Square-pixel y where the body starts on the cover page."""
    title = _pt_to_px(28)
    field_h = round(_pt_to_px(12) * 1.5)
    count = 5 if cover.subject else 4
    return TOP_MARGIN_PX + title + 40 + count * field_h + 50


def cover_pages_layout(cover: CoverPage, geometry: PageGeometry) -> list[list[str]]:
    """The body's lines per page: the cover first, overflow on text pages."""
    lines = wrap_lines(cover.body, text_columns())
    first = max(1, text_rows(geometry, _cover_top(cover)))
    return paginate(lines, first, text_rows(geometry))


def cover_bitmaps(cover: CoverPage, total_pages: int, geometry: PageGeometry) -> list[Image.Image]:
    """Content bitmaps of the cover page (and of the body's overflow pages)."""
    layout = cover_pages_layout(cover, geometry)
    canvas = Image.new("L", (FAX_WIDTH, _square_rows(geometry.content_rows, geometry.y_dpi)), 255)
    draw = ImageDraw.Draw(canvas)
    y = TOP_MARGIN_PX
    draw.text((SIDE_MARGIN_PX, y), "FAX", font=font(BOLD_FONT, _pt_to_px(28)), fill=0)
    y += _pt_to_px(28) + 40
    label_face = font(BOLD_FONT, _pt_to_px(12))
    value_face = font(SANS_FONT, _pt_to_px(12))
    field_h = round(_pt_to_px(12) * 1.5)
    for label, value in _cover_fields(cover, total_pages):
        draw.text((SIDE_MARGIN_PX, y), f"{label}:", font=label_face, fill=0)
        draw.text((SIDE_MARGIN_PX + 300, y), value, font=value_face, fill=0)
        y += field_h
    y += 20
    draw.rectangle((SIDE_MARGIN_PX, y, FAX_WIDTH - SIDE_MARGIN_PX, y + 4), fill=0)
    bitmaps = [text_page(layout[0], geometry, _cover_top(cover), canvas)]
    bitmaps += [text_page(lines, geometry) for lines in layout[1:]]
    return bitmaps


# --- images ---------------------------------------------------------------------------------


def is_photo(gray: Image.Image) -> bool:
    """Whether a grayscale image has enough mid-tones to need dithering."""
    histogram = gray.histogram()
    total = sum(histogram) or 1
    mid = sum(histogram[MID_TONES.start:MID_TONES.stop])
    return mid / total > PHOTO_FRACTION


def _flatten(frame: Image.Image) -> Image.Image:
    """Any image mode to grayscale on a white background."""
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if frame.mode == "L":
        return frame.copy()
    return frame.convert("L")


def fit_size(width: int, height: int, dpi: tuple[float, float],
             geometry: PageGeometry) -> tuple[int, int]:
    """Fax pixel size of an image: its physical size, shrunk to fit the content area."""
    dx, dy = dpi
    target_w = width / dx * X_DPI
    target_h = height / dy * geometry.y_dpi
    scale = min(1.0, FAX_WIDTH / target_w, geometry.content_rows / target_h)
    return max(1, round(target_w * scale)), max(1, round(target_h * scale))


def _image_dpi(image: Image.Image) -> tuple[float, float]:
    dpi = image.info.get("dpi")
    try:
        dx, dy = float(dpi[0]), float(dpi[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return (DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI)
    if dx < 10 or dy < 10:
        return (DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI)
    return (dx, dy)


def gray_page(gray: Image.Image, geometry: PageGeometry, dither: bool) -> Image.Image:
    """Place a grayscale image on a white content area, top centred, as 1-bit."""
    bitmap = to_bilevel(gray, dither)
    if bitmap.size == (FAX_WIDTH, geometry.content_rows):
        return bitmap
    page = Image.new("1", (FAX_WIDTH, geometry.content_rows), 255)
    page.paste(bitmap, ((FAX_WIDTH - bitmap.width) // 2, 0))
    return page


def image_bitmaps(path: Path, geometry: PageGeometry, dither_everything: bool,
                  max_pages: int) -> Iterator[Image.Image]:
    """Content bitmaps of every frame of an image file (GIF/TIFF may have several)."""
    name = path.name
    try:
        with Image.open(path) as image:
            dpi = _image_dpi(image)
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= max_pages:
                    raise DocumentTooLargeError(
                        f"{name}: the image has more than {max_pages} pages, the most a fax "
                        "may have")
                width, height = frame.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DocumentTooLargeError(
                        f"{name}: the image has {width}x{height} pixels, more than the "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} million a fax image may have")
                if index == 0 and image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    width, height = height, width  # EXIF says rotate by 90 degrees
                size = fit_size(width, height, dpi, geometry)
                if index == 0 and image.format == "JPEG":
                    image.draft("L", (max(size), max(size)))  # decode big JPEGs scaled down
                upright = ImageOps.exif_transpose(frame) if index == 0 else frame
                gray = _flatten(upright)
                if gray.size != size:
                    gray = gray.resize(size, Image.Resampling.LANCZOS)
                yield gray_page(gray, geometry, dither_everything or is_photo(gray))
    except Image.DecompressionBombError as exc:
        raise DocumentTooLargeError(f"{name}: the image is too large to fax") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptDocumentError(f"{name}: the image is damaged and cannot be read") from exc
