"""R6 in the lab: a voicemail-mode line hears a fax's CNG during its greeting and receives it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from faxcore.config import FaxcoreConfig
from faxcore.domain import FaxState, LineMode
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from tests.calls.test_serve_lab import serving
from tests.lab_fixtures import LAB_LINE
from tests.reception.test_reception_lab import faxes

pytestmark = [pytest.mark.lab, pytest.mark.slow]


async def set_mode(config: FaxcoreConfig, mode: LineMode) -> None:
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, mode=mode)


@pytest.mark.parametrize("mode", ["g711", "t38"])
async def test_voicemail_line_hearing_cng_during_the_greeting_receives_the_fax(
        lab: Lab, lab_config: FaxcoreConfig, tmp_path: Path, mode: str) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    before = {f.id for f in await faxes(lab_config)}
    await set_mode(lab_config, LineMode.VOICEMAIL)
    try:
        # A missed fax would be recorded as a message for up to 60 s, then hung up:
        # the test fails in minutes, not at the suite's timeout.
        config = replace(lab_config, voicemail=replace(lab_config.voicemail,
                                                       max_message_seconds=60))
        async with serving(config) as served:
            outcome = await Ata(served).send_fax(LAB_LINE, document, mode=mode,
                                                 station_id="ATA CNG", timeout=180)
    finally:
        await set_mode(lab_config, LineMode.FAX)
    assert outcome.fax_ok, outcome
    new = [f for f in await faxes(lab_config) if f.id not in before]
    assert len(new) == 1 and new[0].state is FaxState.RECEIVED and new[0].pages == 1, new
    assert new[0].remote_station_id == "ATA CNG"
    # A T.38 caller is met in T.38 (Asterisk's gateway), as on a fax line.
    assert new[0].transport == ("t38" if mode == "t38" else "audio")
