"""Mailbox login (V3) and the persisted PIN lockout, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from faxcore.config import FaxcoreConfig
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent, utcnow
from faxcore.voicemail.login import MailboxLogin, mailbox_number
from faxcore.voicemail.store import VoicemailStore

NUMBER = "+33972100008"
PIN = "4826"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def _line(database: Database) -> None:
    service = LineService(database)
    await service.add(NUMBER, "Login-line-42x")
    await service.set(NUMBER, pin=PIN)


def test_mailbox_number_accepts_national_and_international_forms() -> None:
    assert mailbox_number("0972100008") == NUMBER
    assert mailbox_number("33972100008") == NUMBER
    assert mailbox_number("0033972100008") == NUMBER


async def test_right_pin_logs_in_and_wrong_or_unknown_look_the_same(
        database: Database, config: FaxcoreConfig) -> None:
    await _line(database)
    login = MailboxLogin(database, config)
    assert (await login.check("0972100008", PIN)).ok
    wrong = await login.check("0972100008", "9999")
    unknown = await login.check("0972199999", PIN)
    assert wrong == unknown and not wrong.ok and wrong.line_id is None


async def test_lockout_refuses_the_right_pin_until_the_window_passes(
        database: Database, config: FaxcoreConfig) -> None:
    await _line(database)
    clock = Clock()
    login = MailboxLogin(database, config, clock)
    for _ in range(config.voicemail.pin_lockout_failures):
        assert not (await login.check(NUMBER, "9999", caller="0611111111")).ok
    assert not (await login.check(NUMBER, PIN)).ok  # locked, although right
    async with database.session(read_only=True) as session:
        kinds = list(await session.scalars(select(OutboxEvent.kind)))
    assert kinds.count("voicemail.mailbox_locked") == 1
    clock.now += timedelta(seconds=config.voicemail.pin_lockout_seconds + 1)
    assert (await MailboxLogin(database, config, clock).check(NUMBER, PIN)).ok


async def test_skip_pin_only_from_the_line_itself_when_enabled(
        database: Database, config: FaxcoreConfig) -> None:
    await _line(database)
    login = MailboxLogin(database, config)
    assert not (await login.check(NUMBER, None, own_line=NUMBER)).ok
    await VoicemailStore(database, config).set_options(NUMBER, skip_pin=True)
    assert (await login.check(NUMBER, None, own_line=NUMBER)).ok
    assert not (await login.check(NUMBER, None, own_line="+33972100007")).ok
