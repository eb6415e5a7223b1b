"""Fax reception against the real lab: the ATA faxes its line in T.38 and in G.711.

``faxcore serve`` runs in-process against the lab PBX; the ATA (a second
Asterisk running SendFAX through res_fax_spandsp) is the subscriber's fax
machine. Received pages are compared pixel by pixel with the TIFF the ATA sent.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageSequence
from pypdf import PdfReader
from sqlalchemy import select

from faxcore.asterisk.sync import sync_asterisk
from faxcore.config import FaxcoreConfig
from faxcore.domain import FaxState
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.state import running_lab_target
from faxcore.lab.stations import Ata, to_fax_tiff
from faxcore.lines.service import LineService
from faxcore.reception.store import FaxStore, FaxView
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from tests.calls.test_serve_lab import serve_process, serving, wait_for
from tests.lab_fixtures import LAB_LINE

pytestmark = [pytest.mark.lab, pytest.mark.slow]

STATION_ID = "FAXCORE LAB LINE"


def _pages(tiff: Path) -> list[Image.Image]:
    with Image.open(tiff) as image:
        return [frame.convert("1").copy() for frame in ImageSequence.Iterator(image)]


def assert_same_pages(received: Path, sent: Path) -> None:
    """Pixel-equal pages, below the header line the sending machine stamps on top.

    The ATA's SendFAX has ``FAXOPT(headerinfo)`` set, so spandsp adds its
    header band (a few dozen rows of text) above each page it transmits.
    """
    got, expected = _pages(received), _pages(sent)
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        header = a.height - b.height
        assert a.width == b.width and 0 <= header <= 64, f"page {index + 1}: {a.size} {b.size}"
        body = a.crop((0, header, a.width, a.height))
        assert ImageChops.difference(body, b).getbbox() is None, f"page {index + 1} differs"
        if header:
            assert a.crop((0, 0, a.width, header)).getextrema() == (0, 255), "blank header"


async def faxes(config: FaxcoreConfig) -> list[FaxView]:
    async with Database(config.database_url) as db:
        return await FaxStore(db, config.fax_dir).list(LAB_LINE)


@pytest.fixture
async def fax_line(lab: Lab, lab_database: FaxcoreConfig) -> FaxcoreConfig:
    """The lab line, in fax mode with a station id the sender must see (SQLite, PostgreSQL)."""
    async with Database(lab_database.database_url) as db:
        await LineService(db).set(LAB_LINE, station_id=STATION_ID, mode="fax")
    return lab_database


async def three_pages(folder: Path) -> tuple[Path, Path]:
    """A 3-page document to fax, and the fax TIFF its pages become (to compare with)."""
    document = folder / "three-pages.tif"
    write_synthetic_document(document, 3)
    sent = folder / "as-sent.tif"
    await to_fax_tiff(document, sent)
    return document, sent


async def test_t38_and_g711_faxes_from_the_ata_are_received_page_for_page(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    document, sent = await three_pages(tmp_path)
    before = {f.id for f in await faxes(fax_line)}
    async with serving(fax_line) as served:
        ata = Ata(served)
        t38, g711 = await asyncio.gather(
            ata.send_fax(LAB_LINE, document, mode="t38", station_id="ATA T38"),
            ata.send_fax(LAB_LINE, document, mode="g711", station_id="ATA G711"),
        )
    for outcome in (t38, g711):
        assert outcome.fax_ok, outcome
        assert outcome.fax.get("REMOTESTATIONID") == STATION_ID, outcome  # R3: our CSI
    new = {f.remote_station_id: f for f in await faxes(fax_line) if f.id not in before}
    assert set(new) == {"ATA T38", "ATA G711"}
    assert new["ATA T38"].transport == "t38" and new["ATA G711"].transport == "audio"
    for fax in new.values():
        assert fax.state is FaxState.RECEIVED, fax
        assert fax.pages == 3 and fax.t30_code == 0 and fax.bit_rate >= 9600
        assert fax.caller and fax.ended_at is not None
        assert_same_pages(Path(fax.tiff_path), sent)
        assert len(PdfReader(fax.pdf_path).pages) == 3
    events = await outbox_payloads(fax_line, "fax.received")
    assert {e["data"]["fax_id"] for e in events} >= {f.id for f in new.values()}


async def outbox_payloads(config: FaxcoreConfig, kind: str) -> list[dict[str, Any]]:
    """The JSON payloads of the outbox events of ``kind`` (N1: written with the change)."""
    async with Database(config.database_url) as db, db.session(read_only=True) as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind))).all()
    return [json.loads(row.payload) for row in rows]


async def test_a_sender_hanging_up_after_page_one_leaves_a_partial_fax_with_that_page(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    document = tmp_path / "three-pages.tif"
    write_synthetic_document(document, 3)
    before = {f.id for f in await faxes(fax_line)}
    async with serving(fax_line) as served:
        outcome = await Ata(served).send_fax(LAB_LINE, document, mode="g711",
                                             station_id="ATA CUT", hangup_after_page=1)
        assert not outcome.fax_ok, outcome
        for _ in range(50):
            new = [f for f in await faxes(served) if f.id not in before]
            if new and new[0].state is not FaxState.RECEIVING:
                break
            await asyncio.sleep(0.2)
    assert len(new) == 1
    fax = new[0]
    assert fax.state is FaxState.PARTIAL, fax
    assert fax.pages == 1
    assert len(PdfReader(fax.pdf_path).pages) == 1


async def test_faxcore_killed_mid_reception_settles_the_fax_at_restart(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    """SIGKILL while pages arrive: the next ``faxcore serve`` settles the record as partial."""
    document = tmp_path / "three-pages.tif"
    write_synthetic_document(document, 3)
    before = {f.id for f in await faxes(fax_line)}
    async with serve_process(fax_line) as first, asyncio.TaskGroup() as tg:
        sending = tg.create_task(Ata(fax_line).send_fax(
            LAB_LINE, document, mode="g711", station_id="ATA KILLED", timeout=240))
        await wait_for(lambda: _has_page(fax_line, before), 120, "a first page")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        [fax] = [f for f in await faxes(fax_line) if f.id not in before]
        assert fax.state is FaxState.RECEIVING  # nobody settled it: the process died
        # The restart settles the record, then hangs up the orphaned call.
        async with serve_process(fax_line):
            outcome = await sending
    assert not outcome.fax_ok, outcome
    [fax] = [f for f in await faxes(fax_line) if f.id == fax.id]
    assert fax.state is FaxState.PARTIAL and fax.pages >= 1, fax
    assert len(PdfReader(fax.pdf_path).pages) == fax.pages
    assert "faxcore stopped" in fax.result_text


async def _has_page(config: FaxcoreConfig, before: set[int]) -> bool:
    return any(f.pages >= 1 for f in await faxes(config) if f.id not in before)


async def test_a_subscriber_faxes_another_line_which_receives_it(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    """The lab ATA (line A) faxes a second faxcore line B through the PBX: B receives it."""
    other = "+33972100077"
    async with Database(fax_line.database_url) as db:
        await LineService(db).add(other, "Other-line-42x", station_id="OTHER LINE")
        await sync_asterisk(db, running_lab_target(fax_line))
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    try:
        async with serving(fax_line) as served:
            # One call, placed as soon as serve is ready: a refusal is a failure.
            outcome = await Ata(served).send_fax(other, document, mode="t38",
                                                 station_id="FROM LINE A", timeout=240)
        assert outcome.answered, outcome
        assert outcome.fax_ok, outcome
        assert outcome.fax.get("REMOTESTATIONID") == "OTHER LINE"
        async with Database(fax_line.database_url) as db:
            [fax] = await FaxStore(db, fax_line.fax_dir).list(other)
        assert fax.state is FaxState.RECEIVED and fax.pages == 1
        assert fax.remote_station_id == "FROM LINE A" and fax.caller.endswith("972100001")
    finally:
        async with Database(fax_line.database_url) as db:
            await LineService(db).remove(other)
            await sync_asterisk(db, running_lab_target(fax_line))


async def test_a_page_longer_than_four_a4_lengths_in_t38_ends_the_call_and_the_next_is_received(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    """A hostile T.38 sender's 5 m page: refused, the call ends, the fax is failed, no harm."""
    endless = tmp_path / "endless.tif"
    Image.new("1", (1728, 25_000), 255).save(endless, compression="group4", dpi=(204, 196))
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    before = {f.id for f in await faxes(fax_line)}
    async with serving(fax_line) as served:
        ata = Ata(served)
        refused = await ata.send_fax(LAB_LINE, endless, mode="t38", station_id="ATA ENDLESS",
                                     as_is=True, timeout=240)
        assert not refused.fax_ok, refused
        await wait_for(lambda: _settled(served, before), 30, "the refused fax settled")
        [failed] = [f for f in await faxes(served) if f.id not in before]
        after = before | {failed.id}
        received = await ata.send_fax(LAB_LINE, document, mode="t38", station_id="ATA NEXT",
                                      timeout=240)
        assert received.fax_ok, received
        await wait_for(lambda: _settled(served, after), 30, "the next fax settled")
    assert failed.state is FaxState.FAILED and failed.pages == 0, failed
    assert failed.result_text.startswith("page 1 refused: longer than 1188 mm"), failed
    [fax] = [f for f in await faxes(fax_line) if f.id not in after]
    assert fax.state is FaxState.RECEIVED and fax.pages == 1, fax
    assert fax.remote_station_id == "ATA NEXT"


async def _settled(config: FaxcoreConfig, before: set[int]) -> bool:
    new = [f for f in await faxes(config) if f.id not in before]
    return bool(new) and all(f.state is not FaxState.RECEIVING for f in new)
