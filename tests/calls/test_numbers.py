"""Which line a dialed number designates (sans I/O)."""

from __future__ import annotations

import pytest

from faxcore.calls.numbers import candidates, national_suffix, pick

LINES = ["+33123456789", "+4930123456", "+15551234567"]


@pytest.mark.parametrize(("dialed", "line"), [
    ("+33123456789", "+33123456789"),
    ("33123456789", "+33123456789"),
    ("0033123456789", "+33123456789"),
    ("0123456789", "+33123456789"),   # national form
    ("+0123456789", "+33123456789"),  # dialplan Goto(+${EXTEN}) on a national form
    ("+33 1 23 45 67 89", "+33123456789"),
    ("030123456", "+4930123456"),
    ("+15551234567", "+15551234567"),
])
def test_dialed_forms_find_their_line(dialed: str, line: str) -> None:
    assert pick(dialed, LINES) == line


@pytest.mark.parametrize("dialed", [
    "+33999999999", "999", "", "s", "0999", "+330123456789", "00", "0",
])
def test_unknown_or_malformed_numbers_find_nothing(dialed: str) -> None:
    assert pick(dialed, LINES) is None


def test_an_ambiguous_national_number_finds_nothing() -> None:
    assert pick("0123456789", ["+33123456789", "+34123456789"]) is None


def test_candidates_and_national_suffix() -> None:
    assert candidates("+33123456789") == ["+33123456789"]
    assert candidates("0033123456789") == ["+33123456789"]
    assert candidates("0123456789") == []
    assert national_suffix("0123456789") == "123456789"
    assert national_suffix("+0123456789") == "123456789"
    assert national_suffix("+33123456789") is None
    assert national_suffix("0033123456789") is None
