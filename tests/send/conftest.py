"""Fixtures of the send tests: a migrated database with a fax line and a voicemail line."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxcore.lines.service import LineService
from faxcore.storage.db import Database

FAX_LINE = "+33100000001"
VOICEMAIL_LINE = "+33100000002"
OTHER_LINE = "+33100000003"


@pytest.fixture
async def lines(database: Database) -> Database:
    """``database`` with two fax lines and one voicemail line provisioned."""
    service = LineService(database)
    await service.add(FAX_LINE, sip_password="Secret-123", station_id="FAXCORE TEST",
                      header="faxcore tests")
    await service.add(OTHER_LINE, sip_password="Secret-123")
    await service.add(VOICEMAIL_LINE, sip_password="Secret-123", mode="voicemail")
    return database


@pytest.fixture
def letter(tmp_path: Path) -> Path:
    """A small plain-text document (one page)."""
    path = tmp_path / "letter.txt"
    path.write_text("Bonjour,\n\nthis is a fax from the faxcore tests.\n")
    return path
