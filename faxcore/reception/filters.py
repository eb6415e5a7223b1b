"""R4 inbound filtering: per-line blacklist, whitelist and refusal of anonymous callers.

``decide`` is pure: the caller's number, whether they withheld it, the line's
entries. A number is matched in the forms it may stand for (as received and
E.164), on its digits; a pattern ending in ``*`` is a prefix. Any ``allow``
entry makes the line a whitelist: only callers with a matching number pass
(a caller with no number never does). ``block`` wins over ``allow``.
``FilterService`` stores the entries (``call_filters``) and the line's
``refuse_anonymous`` flag.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError
from faxcore.calls.handlers import Call, Refusal, Screen
from faxcore.calls.numbers import candidates, digits_of
from faxcore.domain import FilterKind, LineInfo
from faxcore.errors import NotFoundError
from faxcore.events import LineChange, line_changed
from faxcore.reception.errors import InvalidFilter
from faxcore.storage.db import Database
from faxcore.storage.models import CallFilter, Line

log = logging.getLogger(__name__)
_PATTERN = re.compile(r"^\+?[0-9]{1,20}\*?$")


@dataclass(frozen=True)
class FilterEntry:
    """One blacklist/whitelist entry."""

    kind: FilterKind
    pattern: str


def normalize_pattern(text: str) -> str:
    """``+33 6 12*`` -> ``+33612*``; ``InvalidFilter`` for anything not a number or prefix."""
    compact = re.sub(r"[\s.\-()]", "", text)
    if not _PATTERN.match(compact):
        raise InvalidFilter(
            f"filter {text!r} is not a number or a prefix ending in '*' "
            "(e.g. +33612345678, +3361*)")
    return compact


def _forms(caller: str) -> set[str]:
    return {digits_of(caller)} | {digits_of(c) for c in candidates(caller)} - {""}


def matches(pattern: str, caller: str) -> bool:
    """True if ``caller`` is the number ``pattern`` or starts with its prefix."""
    digits = digits_of(pattern)
    if pattern.endswith("*"):
        return any(form.startswith(digits) for form in _forms(caller))
    return digits in _forms(caller)


def decide(caller: str, *, withheld: bool, refuse_anonymous: bool,
           entries: Iterable[FilterEntry]) -> Refusal | None:
    """The refusal for this caller on a line with these settings, or None to answer.

    A whitelist admits only callers whose number is on it: withholding the
    number or sending none never gets a caller past it. A number the network
    passed with restricted presentation is still matched against both lists.
    """
    has_number = bool(digits_of(caller))
    if refuse_anonymous and (withheld or not has_number):
        return Refusal("anonymous caller refused")
    listed = list(entries)
    for entry in listed:
        if entry.kind is FilterKind.BLOCK and has_number and matches(entry.pattern, caller):
            return Refusal(f"caller blacklisted ({entry.pattern})")
    allowed = [e for e in listed if e.kind is FilterKind.ALLOW]
    if allowed and not (has_number and any(matches(e.pattern, caller) for e in allowed)):
        return Refusal("caller not in the whitelist")
    return None


class FilterService:
    """Stores a line's filter entries and anonymous-caller setting."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _line(self, number: str) -> Line:
        async with self.db.session(read_only=True) as session:
            line = await session.scalar(select(Line).where(Line.number == number))
        if line is None:
            raise NotFoundError(f"no line {number}")
        return line

    async def add(self, number: str, kind: FilterKind, pattern: str) -> FilterEntry:
        """Add an entry (adding it twice is harmless)."""
        entry = FilterEntry(kind, normalize_pattern(pattern))
        line = await self._line(number)
        async with self.db.session() as session:
            exists = await session.scalar(select(CallFilter.id).where(
                CallFilter.line_id == line.id, CallFilter.kind == kind,
                CallFilter.pattern == entry.pattern))
            if exists is None:
                session.add(CallFilter(line_id=line.id, kind=kind, pattern=entry.pattern))
                await line_changed(session, line.number, LineChange.FILTERS, [kind.value])
        return entry

    async def remove(self, number: str, kind: FilterKind, pattern: str) -> None:
        """Remove an entry (``NotFoundError`` if it is not there)."""
        normalized = normalize_pattern(pattern)
        line = await self._line(number)
        async with self.db.session() as session:
            result = await session.execute(delete(CallFilter).where(
                CallFilter.line_id == line.id, CallFilter.kind == kind,
                CallFilter.pattern == normalized))
            if not getattr(result, "rowcount", 0):
                raise NotFoundError(f"line {number} has no {kind.value} entry {normalized}")
            await line_changed(session, line.number, LineChange.FILTERS, [kind.value])

    async def set_refuse_anonymous(self, number: str, refuse: bool) -> None:
        """Refuse (or accept again) callers who withhold their number."""
        line = await self._line(number)
        async with self.db.session() as session:
            row = await session.get(Line, line.id)
            if row is not None and row.refuse_anonymous != refuse:
                row.refuse_anonymous = refuse
                await line_changed(session, line.number, LineChange.FILTERS,
                                   ["refuse_anonymous"])

    async def settings(self, line_id: int) -> tuple[bool, list[FilterEntry]]:
        """``(refuse_anonymous, entries)`` of a line, for the decision at call time."""
        async with self.db.session(read_only=True) as session:
            refuse = bool(await session.scalar(
                select(Line.refuse_anonymous).where(Line.id == line_id)))
            rows = (await session.scalars(select(CallFilter).where(
                CallFilter.line_id == line_id).order_by(CallFilter.id))).all()
            return refuse, [FilterEntry(row.kind, row.pattern) for row in rows]

    async def list(self, number: str) -> tuple[bool, list[FilterEntry]]:
        """``(refuse_anonymous, entries)`` of the line ``number``."""
        return await self.settings((await self._line(number)).id)


async def withheld(ari: AriClient, call: Call) -> bool:
    """True when the caller restricted the presentation of their number."""
    try:
        presentation = await ari.get_variable(call.id, "CALLERID(pres)")
    except AriError as exc:
        log.warning("call %s: caller presentation unknown: %s", call.id, exc)
        return False
    log.debug("call %s: caller presentation %r", call.id, presentation)
    return presentation.startswith("prohib")


def screener(service: FilterService) -> Screen:
    """The Stasis app's ``screen`` hook: refuse per the line's R4 settings."""

    async def screen(ari: AriClient, call: Call, line: LineInfo) -> Refusal | None:
        refuse_anonymous, entries = await service.settings(line.id)
        if not refuse_anonymous and not entries:
            return None
        caller = call.channel.caller.number
        hidden = await withheld(ari, call) if refuse_anonymous else False
        return decide(caller, withheld=hidden, refuse_anonymous=refuse_anonymous,
                      entries=entries)

    return screen
