"""R4 against the real lab: filtered callers are refused before answering, with cause 21."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from faxcore.config import FaxcoreConfig
from faxcore.domain import CallDisposition, FilterKind
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.reception.filters import FilterService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent
from tests.calls.test_serve_lab import entries, serving
from tests.lab_fixtures import LAB_LINE

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ATA_NUMBER = LAB_LINE  # the ATA calls from its own line's number


async def refused_events(config: FaxcoreConfig) -> list[dict[str, str]]:
    async with Database(config.database_url) as db, db.session(read_only=True) as session:
        rows = (await session.scalars(select(OutboxEvent).where(
            OutboxEvent.kind == "call.refused"))).all()
        return [json.loads(row.payload)["data"] for row in rows]


async def test_blacklisted_unlisted_and_anonymous_callers_are_refused_whitelisted_pass(
        lab: Lab, lab_config: FaxcoreConfig) -> None:
    async with Database(lab_config.database_url) as db:
        filters = FilterService(db)
        async with serving(lab_config) as served:
            ata = Ata(served)
            before = len(await entries(served))

            await filters.add(LAB_LINE, FilterKind.BLOCK, ATA_NUMBER)
            blocked = await ata.call(LAB_LINE, seconds=1)
            await filters.remove(LAB_LINE, FilterKind.BLOCK, ATA_NUMBER)

            await filters.add(LAB_LINE, FilterKind.ALLOW, "+33611*")
            unlisted = await ata.call(LAB_LINE, seconds=1)
            await filters.add(LAB_LINE, FilterKind.ALLOW, "+339721*")
            whitelisted = await ata.call(LAB_LINE, seconds=1)
            await filters.remove(LAB_LINE, FilterKind.ALLOW, "+33611*")
            await filters.remove(LAB_LINE, FilterKind.ALLOW, "+339721*")

            await filters.set_refuse_anonymous(LAB_LINE, True)
            # Withheld presentation plus the SIP "anonymous" identity, as phones send it.
            anonymous = await ata.call(LAB_LINE, seconds=1, anonymous=True,
                                       caller_id="anonymous")
            shown = await ata.call(LAB_LINE, seconds=1)
            await filters.set_refuse_anonymous(LAB_LINE, False)

    for outcome in (blocked, unlisted, anonymous):
        assert not outcome.answered and outcome.elapsed < 5, outcome
    assert whitelisted.answered and shown.answered
    rows = (await entries(lab_config))[before:]
    refusals = [r for r in rows if r.disposition is CallDisposition.REJECTED_FILTER]
    assert [(r.cause, r.detail) for r in refusals] == [
        (21, f"caller blacklisted ({ATA_NUMBER})"), (21, "caller not in the whitelist"),
        (21, "anonymous caller refused")]
    assert all(r.line_id is not None and r.ended_at is not None for r in refusals)
    reasons = [e["reason"] for e in await refused_events(lab_config)][-3:]
    assert reasons == [r.detail for r in refusals]
