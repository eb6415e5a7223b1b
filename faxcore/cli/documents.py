"""CLI: ``faxcore documents convert|to-pdf`` — the document pipeline by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_async, state
from faxcore.documents import (
    Compression,
    CoverPage,
    DocumentLimits,
    HeaderSpec,
    Paper,
    Quality,
    convert_to_fax,
    tiff_to_pdf,
)


@click.group(name="documents")
def documents() -> None:
    """Turn documents into fax pages and received faxes into PDF."""


@documents.command(name="convert")
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The fax TIFF to write.")
@click.option("--quality", type=click.Choice([q.value for q in Quality]), default="high",
              show_default=True)
@click.option("--paper", type=click.Choice([p.value for p in Paper]), default="a4",
              show_default=True)
@click.option("--compression", type=click.Choice([c.value for c in Compression]),
              default="g4", show_default=True)
@click.option("--header", "header_text", default=None, help="Page header text (stamps pages).")
@click.option("--tsi", default="", help="Transmit station id shown in the header.")
@click.option("--cover-from", default=None, help="Cover page: sender.")
@click.option("--cover-to", default=None, help="Cover page: recipient.")
@click.option("--cover-body", default="", help="Cover page: body text.")
@click.option("--max-pages", type=click.IntRange(min=1), default=None,
              help="Pages allowed (default: documents.max_pages of the configuration).")
@json_option
@click.pass_context
@handles_errors
def convert(ctx: click.Context, inputs: tuple[Path, ...], output: Path, quality: str, paper: str,
            compression: str, header_text: str | None, tsi: str, cover_from: str | None,
            cover_to: str | None, cover_body: str, max_pages: int | None,
            as_json: bool) -> None:
    """Convert INPUTS (in order) into one fax-ready TIFF, within the configured limits."""
    limits = DocumentLimits.of(state(ctx).config.documents)
    if max_pages is not None:
        limits = replace(limits, max_pages=max_pages)
    header = HeaderSpec(text=header_text, tsi=tsi) if header_text is not None else None
    cover = None
    if cover_from is not None or cover_to is not None:
        cover = CoverPage(sender=cover_from or "", recipient=cover_to or "", body=cover_body,
                          when=datetime.now())
    doc = run_async(convert_to_fax(
        list(inputs), output, quality=Quality(quality), paper=Paper(paper), header=header,
        cover=cover, limits=limits,
        compression=Compression(compression)))
    emit(doc, f"{doc.path}: {doc.pages} page(s), {doc.x_dpi}x{doc.y_dpi} dpi, "
              f"{doc.paper.value}, {doc.compression.value}", as_json)


@documents.command(name="to-pdf")
@click.argument("tiff", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@handles_errors
def to_pdf(tiff: Path, pdf: Path, as_json: bool) -> None:
    """Write a fax TIFF as a PDF (lossless, page size from the resolution)."""
    pages = run_async(tiff_to_pdf(tiff, pdf))
    emit({"pdf": pdf, "pages": pages}, f"{pdf}: {pages} page(s)", as_json)


commands: list[click.Command] = [documents]
