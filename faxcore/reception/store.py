"""Received fax records and files: durable from the first moment of a reception.

The record is written when the fax starts (state ``receiving``), updated after
each page, and settled at the end with its PDF built first, so a record that
says ``received`` or ``partial`` always has its PDF. The settle and its event
are one transaction. ``settle_interrupted`` settles what a killed faxcore
left ``receiving``, from the pages found in the TIFF.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageSequence
from sqlalchemy import select, update

from faxcore.documents.errors import DocumentError
from faxcore.documents.pdf import tiff_to_pdf, tiff_to_pdf_sync
from faxcore.events import EventKind, emit
from faxcore.fax.events import FaxCompleted
from faxcore.reception.errors import FaxNotFound
from faxcore.storage.db import Database
from faxcore.storage.models import FaxState, Line, ReceivedFax, utcnow

log = logging.getLogger(__name__)


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

    async def start(self, line: Line, *, caller: str, channel_id: str,
                    local_station_id: str) -> ReceivedFax:
        """Record a reception that begins now; its files go in the line's folder."""
        folder = self.fax_dir / line.number.lstrip("+")
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True, mode=0o700)
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
        pages = await self._make_pdf(fax, result.pages)
        state = FaxState.RECEIVED if result.success and pages else (
            FaxState.PARTIAL if pages else FaxState.FAILED)
        text = result.t30_text if result.success or not pages else \
            f"ended after {pages} page(s): {result.t30_text}"
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
            pages = await self._make_pdf(fax, fax.pages)
            state = FaxState.PARTIAL if pages else FaxState.FAILED
            settled.append(await self._finish(
                fax.id, state=state, pages=pages,
                result_text=f"faxcore stopped during the reception ({pages} page(s) kept)"))
            log.warning("fax %d on %s settled after a restart: %s, %d page(s)", fax.id,
                        fax.line_number, state.value, pages)
        return settled

    async def _finish(self, fax_id: int, **values: Any) -> FaxView:
        async with self.db.session() as session:
            fax = await session.get(ReceivedFax, fax_id)
            if fax is None:
                raise FaxNotFound(f"no received fax {fax_id}")
            for key, value in values.items():
                setattr(fax, key, value)
            fax.ended_at = utcnow()
            view = FaxView.of(fax)
            await emit(session, line=fax.line_number, kind=_EVENT[fax.state],
                       data=_event_data(view))
        return view

    async def _make_pdf(self, fax: ReceivedFax, expected: int) -> int:
        """Build the PDF of the pages the TIFF holds; the page count (0: none, no PDF)."""
        tiff, pdf = Path(fax.tiff_path), Path(fax.pdf_path)
        if not tiff.exists() or tiff.stat().st_size == 0:
            return 0
        try:
            return await tiff_to_pdf(tiff, pdf)
        except DocumentError as exc:
            log.warning("fax %d: %s; keeping the readable pages", fax.id, exc)
        return await asyncio.to_thread(_salvage, tiff, pdf, expected)

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


def _salvage(tiff: Path, pdf: Path, expected: int) -> int:
    """Copy the pages libtiff can still read (a TIFF cut short) and make their PDF."""
    frames: list[Image.Image] = []
    try:
        with Image.open(tiff) as image:
            for frame in ImageSequence.Iterator(image):
                frames.append(frame.convert("1").copy())
    except (OSError, ValueError, SyntaxError, EOFError, TypeError) as exc:
        log.warning("%s: reading stopped after %d of %d page(s): %s", tiff.name, len(frames),
                    expected, exc)
    if not frames:
        return 0
    salvaged = tiff.with_suffix(".salvaged.tif")
    frames[0].save(salvaged, compression="group4", save_all=True, append_images=frames[1:],
                   dpi=frames[0].info.get("dpi", (204, 196)))
    shutil.move(salvaged, tiff)
    return tiff_to_pdf_sync(tiff, pdf)
