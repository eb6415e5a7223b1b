"""Secret lockout under real concurrency, on SQLite and PostgreSQL.

Each guess runs in its own task on one of several ``Database`` engines (as
several calls, browsers or faxcore processes would), so the checks meet in
the database, not in Python.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from faxcore.config import FaxcoreConfig
from faxcore.domain import SecretKind
from faxcore.events import EventKind
from faxcore.lines.attempts import LOCK_EVENTS
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent, SecretAttempt
from faxcore.voicemail.login import MailboxLogin

NUMBER = "+33972100031"
PIN = "4826"
FAX_PASSWORD = "faxpw-77"
GUESSES = 31
ENGINES = 4


@pytest.fixture
async def engines(database: Database) -> AsyncIterator[list[Database]]:
    """The test database through several engines: separate connection pools."""
    extra = [Database(database.url) for _ in range(ENGINES - 1)]
    try:
        yield [database, *extra]
    finally:
        for db in extra:
            await db.close()


async def _line(database: Database) -> None:
    service = LineService(database)
    await service.add(NUMBER, "Lockout-line-9x", fax_password=FAX_PASSWORD)
    await service.set(NUMBER, pin=PIN)


async def _count(database: Database, secret: SecretKind) -> tuple[int, int]:
    """(attempts kept, lock events of that secret)."""
    async with database.session(read_only=True) as session:
        attempts = await session.scalar(select(func.count()).select_from(SecretAttempt).where(
            SecretAttempt.secret == secret))
        events = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.kind == LOCK_EVENTS[secret].value))
    return int(attempts or 0), int(events or 0)


async def _all_at_once(checks: list[Callable[[], Awaitable[bool]]]) -> list[bool]:
    start = asyncio.Event()

    async def one(check: Callable[[], Awaitable[bool]]) -> bool:
        await start.wait()
        return await check()

    tasks = [asyncio.create_task(one(check)) for check in checks]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks))


def _pin_check(db: Database, config: FaxcoreConfig, pin: str, i: int
               ) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await MailboxLogin(db, config).check(NUMBER, pin, caller=f"06{i:08d}")).ok
    return check


async def test_31_parallel_wrong_pins_lock_the_mailbox_once_and_the_lock_holds(
        engines: list[Database], config: FaxcoreConfig) -> None:
    await _line(engines[0])
    limit = config.voicemail.pin_lockout_failures
    results = await _all_at_once([_pin_check(engines[i % ENGINES], config, "9999", i)
                                  for i in range(GUESSES)])
    assert not any(results)
    assert await _count(engines[0], SecretKind.PIN) == (limit, 1)
    assert not (await MailboxLogin(engines[0], config).check(NUMBER, PIN)).ok  # locked
    assert await _count(engines[0], SecretKind.PIN) == (limit, 1)


async def test_parallel_guesses_get_only_the_free_attempts_right_pin_among_them(
        engines: list[Database], config: FaxcoreConfig) -> None:
    """One attempt left: of 30 wrong PINs and the right one, exactly one is verified."""
    await _line(engines[0])
    limit = config.voicemail.pin_lockout_failures
    login = MailboxLogin(engines[0], config)
    for _ in range(limit - 1):
        assert not (await login.check(NUMBER, "9999")).ok
    checks = [_pin_check(engines[i % ENGINES], config, "9999", i) for i in range(GUESSES - 1)]
    checks.insert(GUESSES // 2, _pin_check(engines[1], config, PIN, 99))
    results = await _all_at_once(checks)
    attempts, events = await _count(engines[0], SecretKind.PIN)
    if any(results):  # the right PIN took the last attempt: it was accepted, nothing else
        assert results.count(True) == 1 and (attempts, events) == (0, 0)
    else:  # a wrong one took it: locked, once
        assert (attempts, events) == (limit, 1)
        assert not (await login.check(NUMBER, PIN)).ok


async def test_the_fax_password_has_its_own_configured_lockout_and_lock_event(
        engines: list[Database], config: FaxcoreConfig) -> None:
    """The operator's ``fax.password_lockout_failures`` holds against parallel guesses;
    the lock is one ``line.fax_password_locked`` event (mailed to the line's addresses)."""
    config = replace(config, fax=replace(config.fax, password_lockout_failures=3))
    await _line(engines[0])

    def guess(db: Database, password: str, i: int) -> Callable[[], Awaitable[bool]]:
        return lambda: LineService(db, config=config).verify_fax_password(
            NUMBER, password, f"web:{i}")

    results = await _all_at_once([guess(engines[i % ENGINES], "wrong-pw", i)
                                  for i in range(GUESSES)])
    assert not any(results)
    assert await _count(engines[0], SecretKind.FAX_PASSWORD) == (3, 1)
    service = LineService(engines[0], config=config)
    assert not await service.verify_fax_password(NUMBER, FAX_PASSWORD)  # locked
    assert await _count(engines[0], SecretKind.PIN) == (0, 0)
    assert await service.verify_pin(NUMBER, PIN)  # the PIN is a separate secret
    async with engines[0].session(read_only=True) as session:
        event = await session.scalar(select(OutboxEvent).where(
            OutboxEvent.kind == EventKind.LINE_FAX_PASSWORD_LOCKED.value))
    assert event is not None and event.line == NUMBER
    data = json.loads(event.payload)["data"]
    assert data["failures"] == 3 and data["caller"].startswith("web:")


async def test_a_right_secret_clears_the_failures_before_it(
        database: Database, config: FaxcoreConfig) -> None:
    await _line(database)
    service = LineService(database)
    for _ in range(3):
        assert not await service.verify_fax_password(NUMBER, "wrong-pw", "x" * 500)
    async with database.session(read_only=True) as session:
        callers = set(await session.scalars(select(SecretAttempt.caller)))
    assert callers == {"x" * 64}  # who tried is kept, cut to the column
    assert await service.verify_fax_password(NUMBER, FAX_PASSWORD)
    assert await _count(database, SecretKind.FAX_PASSWORD) == (0, 0)
