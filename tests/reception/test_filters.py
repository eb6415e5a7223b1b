"""R4 filter decisions and their storage."""

from __future__ import annotations

import pytest

from faxcore.domain import FilterKind
from faxcore.errors import NotFoundError
from faxcore.reception.errors import InvalidFilter
from faxcore.reception.filters import FilterEntry, FilterService, decide, normalize_pattern
from faxcore.storage.db import Database
from tests.reception.test_store import NUMBER, a_line

BLOCK, ALLOW = FilterKind.BLOCK, FilterKind.ALLOW


def refused(caller: str, *entries: FilterEntry, withheld: bool = False,
            refuse_anonymous: bool = False) -> str | None:
    refusal = decide(caller, withheld=withheld, refuse_anonymous=refuse_anonymous,
                     entries=entries)
    return None if refusal is None else refusal.reason


def test_blacklisted_numbers_and_prefixes_are_refused_with_cause_21() -> None:
    assert refused("+33612345678", FilterEntry(BLOCK, "+33612345678")) is not None
    assert refused("0612345678", FilterEntry(BLOCK, "0612*")) is not None  # as received
    assert refused("+33712345678", FilterEntry(BLOCK, "+3361*")) is None
    refusal = decide("+33612345678", withheld=False, refuse_anonymous=False,
                     entries=[FilterEntry(BLOCK, "+336*")])
    assert refusal is not None and refusal.cause == 21


def test_a_whitelist_lets_only_its_callers_through_and_block_wins() -> None:
    allow = FilterEntry(ALLOW, "+3361*")
    assert refused("+33612345678", allow) is None
    assert refused("+33712345678", allow) == "caller not in the whitelist"
    assert refused("+33612345678", allow, FilterEntry(BLOCK, "+33612345678")) is not None


def test_anonymous_callers_are_refused_only_when_the_line_says_so() -> None:
    assert refused("", refuse_anonymous=True) == "anonymous caller refused"
    assert refused("+33612345678", withheld=True, refuse_anonymous=True) is not None
    assert refused("anonymous", refuse_anonymous=False) is None
    assert refused("+33612345678", refuse_anonymous=True) is None


@pytest.mark.parametrize("bad", ["", "abc", "+33*6", "**", "+"])
def test_patterns_that_are_not_numbers_or_prefixes_are_refused(bad: str) -> None:
    with pytest.raises(InvalidFilter):
        normalize_pattern(bad)


async def test_entries_are_stored_per_line_and_removed(database: Database) -> None:
    line = await a_line(database)
    service = FilterService(database)
    await service.add(NUMBER, BLOCK, "+33 6 12*")
    await service.add(NUMBER, BLOCK, "+3361 2*")  # same entry: kept once
    await service.add(NUMBER, ALLOW, "+33712345678")
    await service.set_refuse_anonymous(NUMBER, True)
    assert await service.settings(line.id) == (
        True, [FilterEntry(BLOCK, "+33612*"), FilterEntry(ALLOW, "+33712345678")])
    await service.remove(NUMBER, BLOCK, "+33612*")
    with pytest.raises(NotFoundError):
        await service.remove(NUMBER, BLOCK, "+33612*")
    with pytest.raises(NotFoundError):
        await service.add("+33100000000", BLOCK, "+336*")
    assert (await service.list(NUMBER))[1] == [FilterEntry(ALLOW, "+33712345678")]


@pytest.mark.parametrize("caller", ["", "anonymous", "+"])
@pytest.mark.parametrize("withheld", [False, True])
def test_a_whitelist_refuses_callers_without_a_number(caller: str, withheld: bool) -> None:
    assert refused(caller, FilterEntry(ALLOW, "+3361*"), withheld=withheld) == (
        "caller not in the whitelist")


def test_a_withheld_number_is_still_matched_against_both_lists() -> None:
    assert refused("+33612345678", FilterEntry(ALLOW, "+3361*"), withheld=True) is None
    assert refused("+33612345678", FilterEntry(BLOCK, "+3361*"), withheld=True) == (
        "caller blacklisted (+3361*)")
