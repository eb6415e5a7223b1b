"""N3 preferences: who is mailed about which event."""

from __future__ import annotations

import pytest

from faxcore.events import EventKind
from faxcore.notify.errors import InvalidAddress
from faxcore.notify.prefs import (
    Preference,
    check_address,
    format_preferences,
    parse_preferences,
    recipients,
)

FAX = frozenset({Preference.FAX})
URGENT = frozenset({Preference.VOICEMAIL_URGENT})
ALL_VM = frozenset({Preference.VOICEMAIL})
BOOK = [("fax@x.fr", FAX), ("urgent@x.fr", URGENT), ("vm@x.fr", ALL_VM)]


def test_fax_events_go_to_fax_subscribers_only() -> None:
    data = {"fax_id": 1, "pages": 1, "pdf_path": "/f.pdf"}
    assert recipients(EventKind.FAX_RECEIVED, data, BOOK) == ["fax@x.fr"]
    assert recipients(EventKind.FAX_FAILED, {"reason": "r"}, BOOK) == ["fax@x.fr"]


def test_urgent_subscribers_get_only_urgent_messages() -> None:
    normal = {"message_id": 1, "duration_s": 3, "audio_path": "/a.wav", "urgent": False}
    assert recipients(EventKind.VOICEMAIL_MESSAGE, normal, BOOK) == ["vm@x.fr"]
    urgent = {**normal, "urgent": True}
    assert recipients(EventKind.VOICEMAIL_MESSAGE, urgent, BOOK) == ["urgent@x.fr", "vm@x.fr"]


def test_mailbox_warnings_go_to_every_voicemail_subscriber() -> None:
    data = {"messages": 95, "max_messages": 100}
    assert recipients(EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL, data, BOOK) == [
        "urgent@x.fr", "vm@x.fr"]


def test_a_locked_fax_password_is_told_to_every_address_of_the_line() -> None:
    data = {"caller": "web:203.0.113.9", "failures": 5}
    assert recipients(EventKind.LINE_FAX_PASSWORD_LOCKED, data, BOOK) == [
        "fax@x.fr", "urgent@x.fr", "vm@x.fr"]


def test_send_reports_go_to_the_sender_when_known() -> None:
    data = {"job_id": 1, "to": "+331", "pages": 1, "report_to": "boss@x.fr"}
    assert recipients(EventKind.FAX_SENT, data, BOOK) == ["boss@x.fr"]
    assert recipients(EventKind.FAX_SENT, {**data, "report_to": None}, BOOK) == ["fax@x.fr"]


def test_bus_only_kinds_send_no_mail() -> None:
    assert recipients(EventKind.CALL_REFUSED, {"reason": "x"}, BOOK) == []
    assert recipients(EventKind.VOICEMAIL_HEARD, {"message_id": 1}, BOOK) == []


def test_preferences_parse_and_format() -> None:
    assert parse_preferences("fax, voicemail-urgent") == {Preference.FAX,
                                                          Preference.VOICEMAIL_URGENT}
    assert parse_preferences("all") == set(Preference)
    assert format_preferences(parse_preferences("voicemail,fax")) == "fax,voicemail"
    with pytest.raises(InvalidAddress, match="unknown notification kind 'sms'"):
        parse_preferences("sms")
    with pytest.raises(InvalidAddress, match="at least one"):
        parse_preferences(" , ")


@pytest.mark.parametrize("bad", ["", "a b@x.fr", "nobody", "x@localhost", "@x.fr"])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidAddress, match="is not an e-mail address"):
        check_address(bad)


def test_sms_gateway_address_is_an_address() -> None:
    assert check_address(" 33612345678@sms.example.net ") == "33612345678@sms.example.net"
