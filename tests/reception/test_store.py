"""Received fax records: durable at start, settled with their PDF and event, or after a crash."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from faxcore.domain import FaxState, LineMode
from faxcore.fax.events import FaxCompleted
from faxcore.fax.loopback import write_synthetic_document
from faxcore.reception.errors import FaxNotFound, InvalidTransition
from faxcore.reception.store import FaxStore, FaxView
from faxcore.storage.db import Database
from faxcore.storage.models import Line, OutboxEvent, ReceivedFax
from tests.documents.doc_samples import write_blank_fax

NUMBER = "+33123456789"


def completed(success: bool, pages: int, code: int = 0, text: str = "OK") -> FaxCompleted:
    return FaxCompleted(success=success, t30_code=code, t30_text=text, pages=pages,
                        bit_rate=14400, ecm=True, remote_ident="REMOTE FAX", duration=30.0)


async def a_line(db: Database) -> Line:
    line = Line(number=NUMBER, mode=LineMode.FAX, sip_username=NUMBER[1:], sip_realm="faxcore",
                sip_ha1="0" * 32)
    async with db.session() as session:
        session.add(line)
    return line


async def receiving(db: Database, tmp_path: Path, pages: int) -> tuple[FaxStore, FaxView]:
    """A store and a fax under way whose TIFF already holds ``pages`` pages."""
    store = FaxStore(db, tmp_path / "faxes")
    fax = await store.start(await a_line(db), caller="0612345678", channel_id="c1",
                            local_station_id="MY FAX")
    write_synthetic_document(Path(fax.tiff_path), pages)
    return store, fax


async def events(db: Database) -> list[dict[str, object]]:
    async with db.session(read_only=True) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    return [json.loads(r.payload) for r in rows]


async def test_a_complete_fax_is_settled_received_with_its_pdf_and_one_event(
        database: Database, tmp_path: Path) -> None:
    store = FaxStore(database, tmp_path / "faxes")
    fax = await store.start(await a_line(database), caller="0612345678", channel_id="c1",
                            local_station_id="MY FAX")
    assert (await store.get(fax.id)).state is FaxState.RECEIVING  # durable from the start
    write_synthetic_document(Path(fax.tiff_path), 2)
    view = await store.settle(fax.id, completed(True, 2), "t38")
    assert view.state is FaxState.RECEIVED and view.pages == 2 and view.transport == "t38"
    assert view.remote_station_id == "REMOTE FAX" and view.ended_at is not None
    assert len(PdfReader(view.pdf_path).pages) == 2
    [event] = await events(database)
    assert event["kind"] == "fax.received" and event["line"] == NUMBER
    assert event["data"] == {**event["data"], "fax_id": fax.id, "pages": 2,  # type: ignore[dict-item]
                             "pdf_path": view.pdf_path}


async def test_a_received_fax_is_private_whatever_the_umask(
        database: Database, tmp_path: Path) -> None:
    os.umask(0o022)
    store = FaxStore(database, tmp_path / "faxes")
    fax = await store.start(await a_line(database), caller="0612345678", channel_id="c1",
                            local_station_id="MY FAX")
    write_synthetic_document(Path(fax.tiff_path), 1)  # as spandsp writes it: umask rules
    view = await store.settle(fax.id, completed(True, 1), "t38")
    for path in (Path(view.tiff_path), Path(view.pdf_path)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(Path(view.pdf_path).parent.stat().st_mode) == 0o700


async def test_a_fax_cut_after_pages_is_partial_and_one_with_none_failed(
        database: Database, tmp_path: Path) -> None:
    store = FaxStore(database, tmp_path / "faxes")
    line = await a_line(database)
    cut = await store.start(line, caller="", channel_id="c1", local_station_id="X")
    write_synthetic_document(Path(cut.tiff_path), 1)
    partial = await store.settle(cut.id, completed(False, 1, 41, "The call dropped"), "audio")
    assert partial.state is FaxState.PARTIAL and partial.pages == 1
    assert "after 1 page(s)" in partial.result_text
    nothing = await store.start(line, caller="", channel_id="c2", local_station_id="X")
    failed = await store.settle(nothing.id, completed(False, 0, 41, "The call dropped"), "audio")
    assert failed.state is FaxState.FAILED and failed.pages == 0
    assert [e["kind"] for e in await events(database)] == ["fax.partial", "fax.failed"]


async def test_receptions_left_by_a_killed_faxcore_are_settled_at_restart(
        database: Database, tmp_path: Path) -> None:
    store = FaxStore(database, tmp_path / "faxes")
    line = await a_line(database)
    whole = await store.start(line, caller="a", channel_id="c1", local_station_id="X")
    write_synthetic_document(Path(whole.tiff_path), 2)
    await store.update(whole.id, pages=2)
    torn = await store.start(line, caller="b", channel_id="c2", local_station_id="X")
    write_synthetic_document(Path(torn.tiff_path), 3)
    data = Path(torn.tiff_path).read_bytes()
    Path(torn.tiff_path).write_bytes(data[: len(data) * 2 // 3])  # the last page never landed
    empty = await store.start(line, caller="c", channel_id="c3", local_station_id="X")

    settled = {v.id: v for v in await store.settle_interrupted()}

    assert settled[whole.id].state is FaxState.PARTIAL and settled[whole.id].pages == 2
    assert settled[torn.id].state is FaxState.PARTIAL
    assert 1 <= settled[torn.id].pages < 3
    assert len(PdfReader(settled[torn.id].pdf_path).pages) == settled[torn.id].pages
    assert settled[empty.id].state is FaxState.FAILED
    assert await store.settle_interrupted() == []  # nothing left receiving
    async with database.session(read_only=True) as session:
        states = set((await session.scalars(select(ReceivedFax.state))).all())
    assert FaxState.RECEIVING not in states


async def test_an_unknown_fax_is_a_clear_error(database: Database, tmp_path: Path) -> None:
    with pytest.raises(FaxNotFound, match="no received fax 42"):
        await FaxStore(database, tmp_path).get(42)


async def test_a_pdf_that_cannot_be_built_leaves_a_failed_fax_with_its_tiff_kept(
        database: Database, tmp_path: Path) -> None:
    store, fax = await receiving(database, tmp_path, 2)
    sent = Path(fax.tiff_path).read_bytes()
    Path(fax.pdf_path).mkdir()  # any failure: here the PDF cannot take its name
    view = await store.settle(fax.id, completed(True, 2), "audio")
    assert view.state is FaxState.FAILED and view.pages == 0
    assert view.result_text == "0 of 2 page(s) readable, TIFF kept: OK"
    assert Path(view.tiff_path).read_bytes() == sent
    assert [e["kind"] for e in await events(database)] == ["fax.failed"]


async def test_a_page_too_long_is_left_out_of_the_pdf_and_the_fax_is_partial(
        database: Database, tmp_path: Path) -> None:
    store = FaxStore(database, tmp_path / "faxes")
    fax = await store.start(await a_line(database), caller="a", channel_id="c1",
                            local_station_id="X")
    # spandsp wrote page 2 before the session refused it (ECM decodes a block at once).
    write_blank_fax(Path(fax.tiff_path), [2296, 110_000])
    sent = Path(fax.tiff_path).read_bytes()
    refused = "page 2 refused: longer than 1188 mm (9147 rows at fine)"
    view = await store.settle(fax.id, completed(False, 1, 49, refused), "audio")
    assert view.state is FaxState.PARTIAL and view.pages == 1
    assert view.result_text == f"ended after 1 page(s): {refused}"
    assert len(PdfReader(view.pdf_path).pages) == 1
    assert Path(view.tiff_path).read_bytes() == sent


async def test_settling_at_start_goes_on_past_faxes_whose_pdf_cannot_be_built(
        database: Database, tmp_path: Path) -> None:
    store = FaxStore(database, tmp_path / "faxes")
    line = await a_line(database)
    bomb = await store.start(line, caller="a", channel_id="c1", local_station_id="X")
    write_blank_fax(Path(bomb.tiff_path), [110_000])  # 190 megapixels: Pillow refuses it
    blocked = await store.start(line, caller="b", channel_id="c2", local_station_id="X")
    write_synthetic_document(Path(blocked.tiff_path), 1)
    Path(blocked.pdf_path).mkdir()
    whole = await store.start(line, caller="c", channel_id="c3", local_station_id="X")
    write_synthetic_document(Path(whole.tiff_path), 2)

    settled = {v.id: v for v in await store.settle_interrupted()}

    assert settled[bomb.id].state is FaxState.FAILED
    assert settled[blocked.id].state is FaxState.FAILED
    assert settled[whole.id].state is FaxState.PARTIAL and settled[whole.id].pages == 2
    assert Path(bomb.tiff_path).exists() and Path(blocked.tiff_path).exists()
    async with database.session(read_only=True) as session:
        states = set((await session.scalars(select(ReceivedFax.state))).all())
    assert FaxState.RECEIVING not in states


async def test_a_settled_fax_is_never_settled_twice_one_result_one_event(
        database: Database, tmp_path: Path) -> None:
    store, fax = await receiving(database, tmp_path, 1)
    view = await store.settle(fax.id, completed(True, 1), "t38")
    pdf = Path(view.pdf_path).read_bytes()
    with pytest.raises(InvalidTransition, match="already received"):
        await store.settle(fax.id, completed(False, 0, 49, "call dropped"), "audio")
    assert Path(view.pdf_path).read_bytes() == pdf  # refused before any file was touched
    assert (await store.get(fax.id)).state is FaxState.RECEIVED
    assert [e["kind"] for e in await events(database)] == ["fax.received"]
