"""What dial-in retrieval reads of a mailbox before the menu starts (V3, V4)."""

from __future__ import annotations

import pytest

from faxcore.config import FaxcoreConfig
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.voicemail.errors import InvalidOption
from faxcore.voicemail.menu import Envelope
from faxcore.voicemail.retrieval import Mailbox, Retrieval
from faxcore.voicemail.store import VoicemailStore

LINE = "+33972100055"


async def test_mailbox_options_reach_the_menu_settings(database: Database,
                                                      config: FaxcoreConfig) -> None:
    await LineService(database).add(LINE, "Retrieval-42x", mode="voicemail", language="en")
    retrieval = Retrieval(database, config)
    assert await retrieval.box(LINE) == Mailbox(LINE, "en", False, False, Envelope.BOTH)
    await VoicemailStore(database, config).set_options(LINE, skip_pin=True, autoplay=False,
                                                      envelope="envelope")
    assert await retrieval.box(LINE) == Mailbox(LINE, "en", True, False, Envelope.ENVELOPE)


async def test_a_fax_line_is_no_mailbox_and_an_unknown_envelope_is_refused(
        database: Database, config: FaxcoreConfig) -> None:
    await LineService(database).add(LINE, "Retrieval-42x", mode="fax")
    assert await Retrieval(database, config).box(LINE) is None
    with pytest.raises(InvalidOption, match="envelope must be one of both, envelope, message"):
        await VoicemailStore(database, config).set_options(LINE, envelope="loud")
