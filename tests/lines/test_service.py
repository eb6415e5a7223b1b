"""Line provisioning on the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import func, select

from faxcore.domain import CallDisposition, LineMode
from faxcore.errors import ConflictError, NotFoundError, ValidationError
from faxcore.lines.errors import InvalidLineInput, LineExists, LineNotFound
from faxcore.lines.service import LineService, LineView
from faxcore.security.passwords import sip_ha1
from faxcore.storage.db import Database
from faxcore.storage.models import CallLogEntry, Line

NUMBER = "+33123456789"


async def _rows(db: Database) -> list[Line]:
    async with db.session() as session:
        return list(await session.scalars(select(Line).order_by(Line.number)))


async def test_add_stores_hashes_only_and_returns_a_view_without_secrets(
    database: Database,
) -> None:
    service = LineService(database)
    view = await service.add("+33 1 23 45 67 89", "Secret-123", fax_password="faxpw1",
                             pin="2580", station_id="+33 1 23 45 67 89", header="ACME")
    assert view.number == NUMBER and view.sip_username == "33123456789"
    assert view.mode is LineMode.FAX and view.language == "fr"
    assert view.has_fax_password and view.has_pin
    fields = {f.name for f in dataclasses.fields(LineView)}
    assert not fields & {"sip_ha1", "fax_password_hash", "pin_hash", "sip_password"}

    (row,) = await _rows(database)
    assert row.sip_realm == "faxcore"
    assert row.sip_ha1 == sip_ha1("33123456789", "faxcore", "Secret-123")
    for secret, stored in (("faxpw1", row.fax_password_hash), ("2580", row.pin_hash)):
        assert stored is not None and stored.startswith("scrypt$") and secret not in stored
    assert await service.verify_fax_password(NUMBER, "faxpw1")
    assert not await service.verify_fax_password(NUMBER, "faxpw2")
    assert await service.verify_pin("0033123456789", "2580")
    assert not await service.verify_pin(NUMBER, "2581")


async def test_get_and_list_accept_any_formatting(database: Database) -> None:
    service = LineService(database)
    await service.add("+49 30 1234567", "abcd1234", mode="voicemail")
    await service.add(NUMBER, "abcd1234")
    assert (await service.get("0049-30-1234567")).mode is LineMode.VOICEMAIL
    assert [v.number for v in await service.list()] == ["+33123456789", "+49301234567"]


async def test_duplicate_line_is_refused_and_the_first_one_is_untouched(
    database: Database,
) -> None:
    service = LineService(database)
    first = await service.add(NUMBER, "abcd1234", station_id="FIRST")
    with pytest.raises(LineExists) as info:
        await service.add("0033 1 23 45 67 89", "other-pass1", station_id="SECOND")
    assert str(info.value) == "line +33123456789 already exists"
    assert isinstance(info.value, ConflictError)
    rows = await _rows(database)
    assert len(rows) == 1 and rows[0].station_id == "FIRST"
    assert rows[0].sip_ha1 == sip_ha1("33123456789", "faxcore", "abcd1234")
    assert await service.get(NUMBER) == first


async def test_concurrent_adds_of_one_number_leave_exactly_one_line(database: Database) -> None:
    """The unique constraint backs the check when two adds race."""
    services = [LineService(database) for _ in range(4)]
    results = await asyncio.gather(
        *(s.add(NUMBER, f"abcd123{i}") for i, s in enumerate(services)), return_exceptions=True
    )
    assert sum(isinstance(r, LineView) for r in results) == 1
    assert all(isinstance(r, LineView | LineExists) for r in results), results
    assert len(await _rows(database)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sip_password": "short1"}, "SIP password must be 8 to 20 characters long (it has 6)"),
        ({"sip_password": "onlyletters"},
         "SIP password must mix at least two kinds of characters among digits, letters and "
         "special characters"),
        ({"fax_password": "12345"}, "fax password must be 6 to 12 characters long (it has 5)"),
        ({"pin": "1234"}, "PIN must not be an ascending or descending sequence of digits"),
        ({"pin": "6789"}, "PIN must not be an ascending or descending sequence of digits"),
        ({"pin": "3123456789"}, "PIN must not be the last digits of the line's number"),
        ({"mode": "fax2"}, "mode must be 'fax' or 'voicemail', not 'fax2'"),
        ({"number": "0123456789"}, "number '0123456789' is not in international format: start "
                                   "with + or 00 and the country code, e.g. +33 1 23 45 67 89"),
    ],
)
async def test_invalid_input_is_refused_with_the_exact_message_and_nothing_written(
    database: Database, kwargs: dict[str, str], message: str
) -> None:
    args = {"number": NUMBER, "sip_password": "abcd1234", **kwargs}
    with pytest.raises(InvalidLineInput) as info:
        await LineService(database).add(**args)
    assert str(info.value) == message
    assert isinstance(info.value, ValidationError)
    assert await _rows(database) == []


async def test_set_changes_settings_and_secrets(database: Database) -> None:
    service = LineService(database)
    added = await service.add(NUMBER, "abcd1234", fax_password="faxpw1")
    changed = await service.set(NUMBER, mode="voicemail", pin="2580", fax_password=None,
                                sip_password="new-pass9", station_id="ID", header="H",
                                language="en")
    assert changed.mode is LineMode.VOICEMAIL
    assert changed.has_pin and not changed.has_fax_password
    assert (changed.station_id, changed.header, changed.language) == ("ID", "H", "en")
    assert changed.updated_at >= added.updated_at
    (row,) = await _rows(database)
    assert row.sip_ha1 == sip_ha1("33123456789", "faxcore", "new-pass9")
    assert await service.verify_pin(NUMBER, "2580")
    assert not await service.verify_fax_password(NUMBER, "faxpw1")
    back = await service.set(NUMBER, mode="fax")
    assert back.mode is LineMode.FAX and back.has_pin


async def test_set_with_one_bad_value_changes_nothing(database: Database) -> None:
    service = LineService(database)
    before = await service.add(NUMBER, "abcd1234", station_id="KEEP")
    with pytest.raises(InvalidLineInput) as info:
        await service.set(NUMBER, station_id="CHANGED", pin="1111")
    assert str(info.value) == "PIN must not repeat a single digit"
    with pytest.raises(InvalidLineInput) as info:
        await service.set(NUMBER, station_id="CHANGED", colour="blue")
    assert str(info.value) == ("unknown setting 'colour'; settable: mode, fax_password, pin, "
                               "sip_password, station_id, tsi, header, language, send_quality, "
                               "send_max_attempts, mail_format, mail_from, mail_from_name, "
                               "audio_format, keep_voicemail")
    assert await service.get(NUMBER) == before


async def test_missing_line_is_not_found(database: Database) -> None:
    service = LineService(database)
    for call in (service.get(NUMBER), service.set(NUMBER, mode="fax"), service.remove(NUMBER)):
        with pytest.raises(LineNotFound) as info:
            await call
        assert str(info.value) == "no line +33123456789"
        assert isinstance(info.value, NotFoundError)
    # Secrets of a missing line answer like wrong ones: no way to list lines by guessing.
    assert not await service.verify_pin(NUMBER, "2580")
    assert not await service.verify_fax_password(NUMBER, "faxpw1")


async def test_remove_deletes_the_line_and_keeps_its_call_log(database: Database) -> None:
    service = LineService(database)
    await service.add(NUMBER, "abcd1234")
    async with database.session() as session:
        line_id = await session.scalar(select(Line.id))
        session.add(CallLogEntry(line_id=line_id, channel_id="c1",
                                 disposition=CallDisposition.ANSWERED))
    removed = await service.remove(NUMBER)
    assert removed.number == NUMBER
    assert await service.list() == []
    async with database.session() as session:
        entry = (await session.scalars(select(CallLogEntry))).one()
        assert entry.line_id is None
        assert await session.scalar(select(func.count()).select_from(Line)) == 0
    # The number can be provisioned again.
    assert (await service.add(NUMBER, "abcd1234")).number == NUMBER


async def test_mail_settings_are_checked_and_stored(database: Database) -> None:
    service = LineService(database)
    await service.add(NUMBER, "abcd1234")
    view = await service.set(NUMBER, mail_format="HTML", mail_from="fax@cabinet.fr",
                             mail_from_name="Cabinet Dupont", audio_format="mp3",
                             keep_voicemail="no")
    assert (view.mail_format, view.mail_from, view.mail_from_name, view.audio_format,
            view.keep_voicemail) == ("html", "fax@cabinet.fr", "Cabinet Dupont", "mp3", False)
    for key, value, message in [
        ("mail_format", "rtf", "mail_format must be 'text' or 'html', not 'rtf'"),
        ("mail_from", "not-an-address", "mail_from 'not-an-address' is not an e-mail address"),
        ("audio_format", "flac", "audio_format must be one of wav, mp3, ogg, not 'flac'"),
        ("keep_voicemail", "maybe", "keep_voicemail must be yes or no, not 'maybe'"),
    ]:
        with pytest.raises(InvalidLineInput) as info:
            await service.set(NUMBER, **{key: value})
        assert str(info.value) == message
    assert await service.get(NUMBER) == view


async def test_send_settings_are_checked_and_stored(database: Database) -> None:
    """Issue 13 item 3: default quality (S2), attempts (S4), transmit identity (S3)."""
    service = LineService(database)
    await service.add(NUMBER, "abcd1234")
    view = await service.set(NUMBER, send_quality="Premium", send_max_attempts="7",
                             tsi="+33 9 72 10 00 01")
    assert (view.send_quality, view.send_max_attempts, view.tsi) == (
        "premium", 7, "+33 9 72 10 00 01")
    for key, value, message in [
        ("send_quality", "ultra",
         "send_quality must be one of normal, high, premium, best, not 'ultra'"),
        ("send_max_attempts", "0", "send_max_attempts must be a whole number from 1 to 10 "
                                   "(or empty for the configured default), not '0'"),
        ("send_max_attempts", "٣", "send_max_attempts must be a whole number from 1 to 10 "
                                   "(or empty for the configured default), not '٣'"),
        ("tsi", "x" * 21, "station id must be at most 20 printable ASCII characters, "
                          "e.g. '+33 1 23 45 67 89'"),
    ]:
        with pytest.raises(InvalidLineInput) as info:
            await service.set(NUMBER, **{key: value})
        assert str(info.value) == message
    assert await service.get(NUMBER) == view
    assert (await service.set(NUMBER, send_max_attempts="")).send_max_attempts is None
