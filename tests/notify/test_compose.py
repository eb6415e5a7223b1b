"""The transmission report names the resolution the fax went at (issue 13 item 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from faxcore.events import EventKind
from faxcore.events.outbox import Event
from faxcore.notify.compose import LineMail, Parts, compose

LINE = "+33123456789"
SENT = {"job_id": 7, "to": "+33987654321", "pages": 2, "attempts": 3, "report_to": None,
        "reason": "", "document": "/var/lib/faxcore/spool/0b7e.tif"}


def _body(language: str, **data: object) -> str:
    event = Event(id="e1", kind=EventKind.FAX_SENT, time=datetime(2026, 12, 2, tzinfo=UTC),
                  line=LINE, data={**SENT, **data})
    mail = compose(event, LineMail(LINE, language=language), "a@example.com", Parts(),
                   "fax@example.net", "Faxcore")
    return str(mail.get_content())


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Resolution: standard (the receiving machine does not accept superfine)"),
    ("fr", "Résolution : standard (le télécopieur destinataire n'accepte pas la résolution "
           "superfine)"),
])
def test_a_report_names_the_resolution_used_and_the_one_refused(
        language: str, expected: str) -> None:
    body = _body(language, resolution="standard", requested_resolution="superfine")
    assert expected in body.splitlines()


def test_a_report_at_the_asked_resolution_names_it_alone_each_fact_on_its_line() -> None:
    lines = _body("en", resolution="fine", requested_resolution="fine").splitlines()
    assert lines[-3:] == ["Pages: 2", "Attempts: 3", "Resolution: fine"]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", [EventKind.FAX_SENT, EventKind.FAX_SEND_FAILED])
def test_a_report_never_shows_the_server_s_spool_path(language: str, kind: EventKind) -> None:
    event = Event(id="e1", kind=kind, time=datetime(2026, 12, 2, tzinfo=UTC), line=LINE,
                  data={**SENT, "reason": "busy"})
    mail = compose(event, LineMail(LINE, language=language), "a@example.com", Parts(),
                   "fax@example.net", "Faxcore")
    assert "spool" not in str(mail.get_content())
