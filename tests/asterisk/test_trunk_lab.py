"""The public network through the lab's carrier: calls over the PBX's trunk (L5, issue 13).

The carrier is a third Asterisk on its own loopback address, the far end of
the trunk faxcore renders from its ``trunk:`` settings (``lab_pbx_config``):
remote fax machines and phones behind it call the lines' DIDs, and faxes to
numbers that are no line reach it. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from faxcore.config import FaxcoreConfig
from faxcore.documents import Quality
from faxcore.domain import CallDisposition, FaxState, LineMode, VoicemailFolder
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config
from faxcore.lab.stations import REMOTE_NUMBER, Carrier
from faxcore.lines.service import LineService
from faxcore.send import SendRequest
from faxcore.send import wiring as send_wiring
from faxcore.storage.db import Database
from faxcore.voicemail.store import VoicemailStore
from tests.calls.test_serve_lab import entries, serving, wait_for
from tests.lab_fixtures import LAB_LINE
from tests.reception.test_reception_lab import assert_same_pages, fax_line, faxes, three_pages
from tests.voicemail.test_deposit_lab import (
    RATE,
    _clear,
    messages,
    set_mode,
    sound_seconds,
    tone,
    write_wav,
)
from tests.voicemail.test_retrieval_lab import MAILBOX, PIN, _events, _last_event

pytestmark = [pytest.mark.lab, pytest.mark.slow]

__all__ = ["fax_line"]  # the fixture, used by name

STATION_ID = "FAXCORE LAB LINE"  # fax_line's
ACCESS_DID = "+33972100900"  # the dial-in number, as the carrier delivers it
OUTSIDE_DIDS = "+33972200001"  # a number the carrier does not route to faxcore


async def test_a_remote_fax_machine_faxes_a_line_s_did_in_t38_and_g711_page_for_page(
        fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    document, sent = await three_pages(tmp_path)
    before = {f.id for f in await faxes(fax_line)}
    async with serving(fax_line) as served:
        carrier = Carrier(served)
        t38, g711 = await asyncio.gather(
            carrier.send_fax(LAB_LINE, document, mode="t38", station_id="REMOTE T38"),
            carrier.send_fax(LAB_LINE, document, mode="g711", station_id="REMOTE G711",
                             caller_id="+33140000002"),
        )
    for outcome in (t38, g711):
        assert outcome.fax_ok, outcome
        assert outcome.fax.get("REMOTESTATIONID") == STATION_ID, outcome
    assert t38.fax.get("FAXMODE") == "T38" and g711.fax.get("FAXMODE") == "audio"
    new = {f.remote_station_id: f for f in await faxes(fax_line) if f.id not in before}
    assert set(new) == {"REMOTE T38", "REMOTE G711"}
    assert new["REMOTE T38"].transport == "t38" and new["REMOTE G711"].transport == "audio"
    # The caller is the remote machine's number, as the carrier presents it.
    assert (new["REMOTE T38"].caller, new["REMOTE G711"].caller) == (REMOTE_NUMBER,
                                                                     "+33140000002")
    for fax in new.values():
        assert fax.state is FaxState.RECEIVED and fax.pages == 3, fax
        assert_same_pages(Path(fax.tiff_path), sent)


async def test_a_remote_phone_leaves_a_message_on_a_voicemail_line_s_did(
        lab: Lab, fax_line: FaxcoreConfig, tmp_path: Path) -> None:
    await set_mode(fax_line, LineMode.VOICEMAIL)
    wait = sound_seconds(lab, "vm-intro") + sound_seconds(lab, "beep") + 0.3
    message = write_wav(tmp_path / "message.wav", [0] * int(wait * RATE) + tone(3.0))
    async with serving(fax_line) as served:
        before = {m.id for m in await messages(served)}
        outcome = await Carrier(served).call(LAB_LINE, play=message, seconds=0)
        assert outcome.answered, outcome

        async def stored() -> bool:
            return bool({m.id for m in await messages(served)} - before)

        await wait_for(stored, 30, "the message to be stored")
    [kept] = [m for m in await messages(fax_line) if m.id not in before]
    assert kept.caller == REMOTE_NUMBER and kept.folder is VoicemailFolder.NEW, kept
    assert 2.0 <= kept.duration_s <= 4.5, kept


@pytest.fixture
async def did_ranges(lab: Lab, fax_line: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """The trunk limited to the lab's DID range and the dial-in DID, rendered into the PBX."""
    config = replace(fax_line, trunk=replace(fax_line.trunk, dids=f"+339721000,{ACCESS_DID}"))
    await Lab(config).up()
    try:
        yield config
    finally:
        await Lab(fax_line).up()


async def test_a_did_outside_the_trunk_s_ranges_is_refused_by_asterisk_one_inside_by_faxcore(
        lab: Lab, did_ranges: FaxcoreConfig) -> None:
    log = lab.chroot.host_path("/var/log/faxcore-lab/pbx/messages.log")
    async with serving(did_ranges) as served:
        before = len(await entries(served))
        offset = log.stat().st_size
        outside = await Carrier(served).call(OUTSIDE_DIDS, seconds=1)
        inside = await Carrier(served).call("+33972100009", seconds=1)
        answered = await Carrier(served).call(LAB_LINE, seconds=1)
        logged = (await entries(served))[before:]
    assert not outside.answered and not inside.answered and answered.answered
    # Outside the ranges: Asterisk refused it (unallocated) and faxcore never saw it.
    written = log.read_bytes()[offset:].decode(errors="replace")
    assert f"faxcore refuses inbound call to {OUTSIDE_DIDS}" in written
    assert [(e.called, e.disposition) for e in logged] == [
        ("+33972100009", CallDisposition.REJECTED_UNKNOWN_LINE),
        (LAB_LINE, CallDisposition.ANSWERED)]
    assert logged[0].cause == 1 and logged[0].caller == REMOTE_NUMBER


async def test_a_phone_on_the_network_dials_in_types_mailbox_and_pin_and_hears_a_message(
        lab: Lab, did_ranges: FaxcoreConfig, tmp_path: Path) -> None:
    """Issue 12 item 5: dial-in from a phone that is not the line's ATA."""
    config = replace(did_ranges, voicemail=replace(did_ranges.voicemail,
                                                   access_number=ACCESS_DID))
    await set_mode(config, LineMode.VOICEMAIL)
    audio = write_wav(tmp_path / "msg.wav", [0] * (RATE // 2) + tone(2.0)).read_bytes()
    await _clear(config)  # earlier tests' new messages would be played first
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, pin=PIN)
        store = VoicemailStore(db, lab_pbx_config(config))
        await store.set_options(LAB_LINE, autoplay=False)
        last = await _last_event(db)
        kept = await store.save_message(await store.line_id(LAB_LINE), "0611223344", audio)
    # Mailbox (the line's number as dialled in France), PIN, '1' plays it. The
    # caller stays until the message was heard to the end (the PIN check, the
    # envelope and the message take their time on a loaded machine), then hangs up.
    keys = f"ww{MAILBOX}#ww{PIN}#wwww1"
    async with serving(config) as served:
        carrier = Carrier(served)
        call = asyncio.create_task(carrier.call(ACCESS_DID, dtmf=keys, seconds=90))

        async def heard() -> bool:
            async with Database(config.database_url) as db:
                return (await VoicemailStore(db, config).get(kept.id)).folder \
                    is VoicemailFolder.OLD

        try:
            await wait_for(heard, 80, "the message to be heard")
        finally:
            await carrier.instance.rx("channel request hangup all")
            outcome = await call
    assert outcome.answered, outcome
    [(_, payload)] = await _events(config, ("voicemail.heard",), last)
    assert f'"message_id": {kept.id}' in payload


@pytest.fixture
async def registering_trunk(lab: Lab, fax_line: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """The trunk authenticated by registration: the PBX registers to the carrier."""
    config = replace(fax_line, trunk=replace(fax_line.trunk, auth="register"))
    await Lab(config).up()

    async def registered() -> bool:
        return "Registered" in await lab.pbx.rx("pjsip show registrations")

    try:
        await wait_for(registered, 20, "the PBX's registration to the carrier")
        yield config
    finally:
        await Lab(fax_line).up()


async def test_a_trunk_that_registers_carries_calls_both_ways(
        lab: Lab, registering_trunk: FaxcoreConfig, tmp_path: Path) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    out = tmp_path / "remote"
    carrier = Carrier(registering_trunk)
    await carrier.receive_fax(out, mode="g711", answer="on")
    before = {f.id for f in await faxes(registering_trunk)}
    async with serving(registering_trunk) as served, Database(served.database_url) as db:
        # In: the carrier calls the PBX's registered contact, which names the trunk.
        inbound = await carrier.send_fax(LAB_LINE, document, mode="g711",
                                         station_id="REMOTE REG")
        # Out: the PBX answers the carrier's digest challenge with the account.
        [job] = await send_wiring.service(lab_pbx_config(served), db).submit(SendRequest(
            line=LAB_LINE, to=["+33140000081"], files=[document], quality=Quality.NORMAL))
        sent = await carrier.wait_received(out, set(), 120)
    assert inbound.fax_ok, inbound
    [fax] = [f for f in await faxes(registering_trunk) if f.id not in before]
    assert fax.remote_station_id == "REMOTE REG" and fax.caller == REMOTE_NUMBER
    assert sent.fax_ok and sent.fax.get("REMOTESTATIONID") == STATION_ID, sent
    assert sent.fax.get("FAXPAGES") == "1"
    assert job.to == "+33140000081"
