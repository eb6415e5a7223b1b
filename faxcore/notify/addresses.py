"""Per-line notification addresses and their N3 preferences (at most 5 a line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from faxcore.events import LineChange, line_changed
from faxcore.lines.service import find_line
from faxcore.notify.errors import AddressNotFound, TooManyAddresses
from faxcore.notify.prefs import (
    ALL,
    MAX_ADDRESSES,
    Preference,
    check_address,
    format_preferences,
    parse_preferences,
)
from faxcore.storage.db import Database
from faxcore.storage.models import NotifyAddress


@dataclass(frozen=True)
class AddressView:
    """One notified address of a line."""

    line: str
    address: str
    kinds: tuple[str, ...]


class NotifyService:
    """Add, change, remove and list a line's notification addresses."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, number: str, address: str,
                  kinds: str | Iterable[str] | None = None) -> AddressView:
        """Notify ``address`` (all kinds unless given); an existing address gets the new kinds."""
        clean = check_address(address)
        prefs = ALL if kinds is None else parse_preferences(kinds)
        try:
            async with self.db.session() as session:
                line = await find_line(session, number)
                row = await session.scalar(select(NotifyAddress).where(
                    NotifyAddress.line_id == line.id, NotifyAddress.address == clean))
                if row is None:
                    count = await session.scalar(select(func.count(NotifyAddress.id))
                                                 .where(NotifyAddress.line_id == line.id))
                    if (count or 0) >= MAX_ADDRESSES:
                        raise TooManyAddresses(
                            f"line {line.number} already notifies {MAX_ADDRESSES} addresses; "
                            "remove one first")
                    row = NotifyAddress(line_id=line.id, address=clean, kinds="")
                    session.add(row)
                row.kinds = format_preferences(prefs)
                await session.flush()
                await line_changed(session, line.number, LineChange.NOTIFY_ADDRESSES)
                return _view(line.number, row)
        except IntegrityError as exc:
            raise TooManyAddresses(f"{clean} was added concurrently; try again") from exc

    async def remove(self, number: str, address: str) -> AddressView:
        """Stop notifying ``address``."""
        clean = address.strip()
        async with self.db.session() as session:
            line = await find_line(session, number)
            row = await session.scalar(select(NotifyAddress).where(
                NotifyAddress.line_id == line.id, NotifyAddress.address == clean))
            if row is None:
                raise AddressNotFound(f"line {line.number} does not notify {clean}")
            view = _view(line.number, row)
            await session.delete(row)
            await line_changed(session, line.number, LineChange.NOTIFY_ADDRESSES)
            return view

    async def list(self, number: str) -> list[AddressView]:
        """The line's addresses in the order they were added."""
        async with self.db.session(read_only=True) as session:
            line = await find_line(session, number)
            rows = await session.scalars(select(NotifyAddress)
                                         .where(NotifyAddress.line_id == line.id)
                                         .order_by(NotifyAddress.id))
            return [_view(line.number, row) for row in rows]


def _view(number: str, row: NotifyAddress) -> AddressView:
    prefs = parse_preferences(row.kinds)
    return AddressView(number, row.address, tuple(p.value for p in Preference if p in prefs))
