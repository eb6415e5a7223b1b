"""Received fax records and files: durable from the first moment of a reception.

The record is written when the fax starts (state ``receiving``), updated after
each page, and settled at the end with its PDF built first, so a record that
says ``received`` or ``partial`` always has its PDF. The settle and its event
are one transaction. ``settle_interrupted`` settles what a killed faxcore
left ``receiving``, from the pages found in the TIFF, one row at a time.

The TIFF holds what a caller sent. Building its PDF never raises: pages that
cannot be read or are longer than a fax page are left out of the PDF, and a
PDF that cannot be built at all leaves a ``failed`` fax; the TIFF is kept as
received either way. The TIFF and the PDF are fsynced with their folder
before the record says they exist.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageSequence
from sqlalchemy import select, update

from faxcore.documents.errors import DocumentError, TiffFormatError
from faxcore.documents.pdf import check_fax_page, tiff_to_pdf_sync
from faxcore.domain import FaxState, LineInfo
from faxcore.events import EventKind, emit
from faxcore.fax.events import FaxCompleted
from faxcore.fax.options import MAX_PAGE_LENGTH_MM
from faxcore.reception.errors import FaxNotFound
from faxcore.reception.states import FAXES
from faxcore.storage.db import Database
from faxcore.storage.files import make_durable
from faxcore.storage.models import ReceivedFax, utcnow

log = logging.getLogger(__name__)

# The session measures pages at spandsp's exact resolution, the TIFF states a
# dpi rounded to a whole number: one more millimetre covers the difference.
PDF_PAGE_LENGTH_MM = MAX_PAGE_LENGTH_MM + 1


@dataclass(frozen=True)
class FaxView:
    """A received fax as the CLI and the API show it."""

    id: int
    line: str
    caller: str
    state: FaxState
    remote_station_id: str
    pages: int
    bit_rate: int
    ecm: bool
    transport: str
    duration_s: float | None
    t30_code: int | None
    result_text: str
    pdf_path: str
    tiff_path: str
    started_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, fax: ReceivedFax) -> FaxView:
        duration = (fax.ended_at - fax.started_at).total_seconds() if fax.ended_at else None
        return cls(id=fax.id, line=fax.line_number, caller=fax.caller, state=fax.state,
                   remote_station_id=fax.remote_station_id, pages=fax.pages,
                   bit_rate=fax.bit_rate, ecm=fax.ecm, transport=fax.transport,
                   duration_s=duration, t30_code=fax.t30_code, result_text=fax.result_text,
                   pdf_path=fax.pdf_path, tiff_path=fax.tiff_path, started_at=fax.started_at,
                   ended_at=fax.ended_at)


class FaxStore:
    """Reads and writes ``received_faxes`` and the files under ``fax_dir``."""

    def __init__(self, db: Database, fax_dir: Path) -> None:
        self.db = db
        self.fax_dir = fax_dir

    async def start(self, line: LineInfo, *, caller: str, channel_id: str,
                    local_station_id: str) -> ReceivedFax:
        """Record a reception that begins now; its files go in the line's folder."""
        folder = self.fax_dir / line.number.lstrip("+")
        await asyncio.to_thread(_make_folder, folder)
        async with self.db.session() as session:
            fax = ReceivedFax(line_id=line.id, line_number=line.number, channel_id=channel_id,
                              caller=caller, state=FaxState.RECEIVING,
                              local_station_id=local_station_id, started_at=utcnow())
            session.add(fax)
            await session.flush()
            fax.tiff_path = str(folder / f"{fax.id}.tif")
            fax.pdf_path = str(folder / f"{fax.id}.pdf")
        return fax

    async def update(self, fax_id: int, **values: Any) -> None:
        """Progress of a reception in course (pages, rate, remote id)."""
        async with self.db.session() as session:
            await session.execute(update(ReceivedFax).where(ReceivedFax.id == fax_id)
                                  .values(**values))

    async def settle(self, fax_id: int, result: FaxCompleted, transport: str) -> FaxView:
        """End a reception with its T.30 result: PDF first, then record and event together."""
        async with self.db.session(read_only=True) as session:
            fax = await session.get(ReceivedFax, fax_id)
        if fax is None:
            raise FaxNotFound(f"no received fax {fax_id}")
        FAXES.refuse_final(fax.state)  # before the PDF is written again
        pages = await self._make_pdf(fax, result.pages)
        complete = result.success and pages >= max(result.pages, 1)
        state = FaxState.RECEIVED if complete else (
            FaxState.PARTIAL if pages else FaxState.FAILED)
        text = result.t30_text
        if pages < result.pages:
            text = f"{pages} of {result.pages} page(s) readable, TIFF kept: {result.t30_text}"
        elif pages and not result.success:
            text = f"ended after {pages} page(s): {result.t30_text}"
        return await self._finish(
            fax_id, state=state, pages=pages, t30_code=result.t30_code, result_text=text,
            bit_rate=result.bit_rate or fax.bit_rate, ecm=result.ecm,
            remote_station_id=result.remote_ident or fax.remote_station_id, transport=transport)

    async def settle_interrupted(self) -> list[FaxView]:
        """Settle receptions a stopped or killed faxcore left ``receiving``."""
        async with self.db.session(read_only=True) as session:
            stale = list((await session.scalars(
                select(ReceivedFax).where(ReceivedFax.state == FaxState.RECEIVING))).all())
        settled = []
        for fax in stale:
            # One row that cannot be settled must not keep every line down.
            try:
                settled.append(await self._settle_interrupted(fax))
            except Exception:
                log.exception("fax %d on %s: not settled after the restart, left for the next "
                              "start", fax.id, fax.line_number)
        return settled

    async def _settle_interrupted(self, fax: ReceivedFax) -> FaxView:
        pages = await self._make_pdf(fax, fax.pages)
        state = FaxState.PARTIAL if pages else FaxState.FAILED
        view = await self._finish(
            fax.id, state=state, pages=pages,
            result_text=f"faxcore stopped during the reception ({pages} page(s) kept)")
        log.warning("fax %d on %s settled after a restart: %s, %d page(s)", fax.id,
                    fax.line_number, state.value, pages)
        return view

    async def _finish(self, fax_id: int, state: FaxState, **values: Any) -> FaxView:
        async with self.db.session() as session:
            fax = await session.get(ReceivedFax, fax_id, with_for_update=True)
            if fax is None:
                raise FaxNotFound(f"no received fax {fax_id}")
            fax.state = FAXES.move(fax.state, state)
            for key, value in values.items():
                setattr(fax, key, value)
            fax.ended_at = utcnow()
            view = FaxView.of(fax)
            await emit(session, line=fax.line_number, kind=_EVENT[fax.state],
                       data=_event_data(view))
        return view

    async def _make_pdf(self, fax: ReceivedFax, expected: int) -> int:
        """Build the PDF of the pages the TIFF holds; the page count (0: none, no PDF).

        Never raises (see the module doc): any failure is logged and counts as
        no page, so the fax is settled ``failed`` with its TIFF kept.
        """
        try:
            return await asyncio.to_thread(
                _build_pdf, Path(fax.tiff_path), Path(fax.pdf_path), expected)
        except Exception:
            log.exception("fax %d: no PDF could be built from %s; the TIFF is kept", fax.id,
                          fax.tiff_path)
            return 0

    async def list(self, line: str | None = None, limit: int = 100) -> list[FaxView]:
        """The latest received faxes, newest first."""
        query = select(ReceivedFax).order_by(ReceivedFax.id.desc()).limit(limit)
        if line is not None:
            query = query.where(ReceivedFax.line_number == line)
        async with self.db.session(read_only=True) as session:
            return [FaxView.of(f) for f in (await session.scalars(query)).all()]

    async def get(self, fax_id: int) -> FaxView:
        """One received fax."""
        async with self.db.session(read_only=True) as session:
            fax = await session.get(ReceivedFax, fax_id)
        if fax is None:
            raise FaxNotFound(f"no received fax {fax_id}")
        return FaxView.of(fax)


_EVENT = {FaxState.RECEIVED: EventKind.FAX_RECEIVED, FaxState.PARTIAL: EventKind.FAX_PARTIAL,
          FaxState.FAILED: EventKind.FAX_FAILED}


def _event_data(view: FaxView) -> dict[str, Any]:
    if view.state is FaxState.FAILED:
        return {"fax_id": view.id, "caller": view.caller, "reason": view.result_text}
    data: dict[str, Any] = {
        "fax_id": view.id, "caller": view.caller, "remote_id": view.remote_station_id,
        "pages": view.pages, "pdf_path": view.pdf_path, "tiff_path": view.tiff_path,
        "bit_rate": view.bit_rate, "ecm": view.ecm, "duration_s": view.duration_s or 0.0,
    }
    if view.state is FaxState.PARTIAL:
        data["reason"] = view.result_text
    return data


def _make_folder(folder: Path) -> None:
    # Runs while the caller waits to be answered: only a new folder is fsynced.
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_durable(folder)


def _build_pdf(tiff: Path, pdf: Path, expected: int) -> int:
    if not tiff.exists() or tiff.stat().st_size == 0:
        return 0
    # spandsp wrote it under whatever umask the process has; the PDF is
    # made through mkstemp, 0600 already.
    tiff.chmod(0o600)
    make_durable(tiff)
    try:
        return tiff_to_pdf_sync(tiff, pdf, PDF_PAGE_LENGTH_MM)
    except DocumentError as exc:
        log.warning("%s; keeping the readable pages", exc)
    return _salvage(tiff, pdf, expected)


def _salvage(tiff: Path, pdf: Path, expected: int) -> int:
    """The PDF of the fax-sized pages libtiff can still read (a TIFF cut short, a page too long).

    The pages go through a copy; the TIFF itself stays as received.
    """
    frames: list[Image.Image] = []
    try:
        with Image.open(tiff) as image:
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                width, height = frame.size
                y_dpi = float(frame.info.get("dpi", (0, 0))[1])
                try:
                    check_fax_page(f"{tiff.name} page {number}", width, height, y_dpi,
                                   PDF_PAGE_LENGTH_MM)
                except TiffFormatError as exc:
                    log.warning("%s; left out of the PDF", exc)
                    continue
                frames.append(frame.convert("1").copy())
    except (OSError, ValueError, SyntaxError, EOFError, TypeError,
            Image.DecompressionBombError) as exc:
        log.warning("%s: reading stopped after %d of %d page(s): %s", tiff.name, len(frames),
                    expected, exc)
    if not frames:
        return 0
    salvaged = tiff.with_suffix(".salvaged.tif")
    try:
        frames[0].save(salvaged, compression="group4", save_all=True, append_images=frames[1:],
                       dpi=frames[0].info.get("dpi", (204, 196)))
        return tiff_to_pdf_sync(salvaged, pdf, PDF_PAGE_LENGTH_MM)
    finally:
        salvaged.unlink(missing_ok=True)
