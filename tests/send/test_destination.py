"""What a line's fax machine dialled, read in the line's country (issue 13 item 2)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from faxcore.send.destination import (
    CAUSE_INVALID_NUMBER,
    CAUSE_REJECTED,
    Barring,
    DestinationRefused,
    destination,
)

FRENCH_LINE = "+33972100001"
OPEN = Barring()


@pytest.mark.parametrize(("dialled", "line", "expected"), [
    ("0140000071", FRENCH_LINE, "+33140000071"),            # national, France
    ("01 40 00 00 71", FRENCH_LINE, "+33140000071"),
    ("0033140000071", FRENCH_LINE, "+33140000071"),         # international with 00
    ("+33140000071", FRENCH_LINE, "+33140000071"),
    ("004930123456", FRENCH_LINE, "+4930123456"),           # Berlin from France
    ("030 123456", "+4930999999", "+4930123456"),           # national, Germany
    ("(212) 555-0100", "+12125550199", "+12125550100"),     # national, United States
])
def test_a_number_is_read_in_the_calling_line_s_country(dialled: str, line: str,
                                                         expected: str) -> None:
    assert destination(dialled, line, OPEN) == expected


@pytest.mark.parametrize("dialled", ["12345", "", "#31#", "0", "01400000711111111",
                                     "x" * 40, "++33140000071", "08FLOWERS1", "0140\n000071"])
def test_what_is_no_possible_number_is_refused_as_an_invalid_number_format(
        dialled: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        destination(dialled, FRENCH_LINE, OPEN)
    assert refused.value.cause == CAUSE_INVALID_NUMBER


def test_premium_rate_numbers_are_barred_unless_the_operator_allows_them() -> None:
    with pytest.raises(DestinationRefused, match=r"\+33899123456 is a premium-rate number") \
            as refused:
        destination("0899123456", FRENCH_LINE, OPEN)
    assert refused.value.cause == CAUSE_REJECTED
    allowed = Barring(allow_premium_rate=True)
    assert destination("0899123456", FRENCH_LINE, allowed) == "+33899123456"


def test_configured_prefixes_are_barred() -> None:
    barring = Barring(prefixes=("+44", "+3314000009"))
    with pytest.raises(DestinationRefused, match=r"barred by the operator \(\+44\.\.\.\)"):
        destination("00442071234567", FRENCH_LINE, barring)
    with pytest.raises(DestinationRefused, match=r"\+33140000091 is barred"):
        destination("0140000091", FRENCH_LINE, barring)
    assert destination("0140000071", FRENCH_LINE, barring) == "+33140000071"


@given(st.text(max_size=60))
@example("0" * 33)
@example("0000000000000\x1f\x1f\x1f\x08\U00018d09\U00018d09\U0001bc9a\U0001dab0\U0002ebe1")
@example("+" + "9" * 15)
def test_any_dialled_string_is_refused_or_becomes_one_e164_number(dialled: str) -> None:
    """What a caller's machine sends is untrusted: one E.164 number out, or a refusal."""
    try:
        number = destination(dialled, FRENCH_LINE, OPEN)
    except DestinationRefused as refused:
        assert refused.cause in (CAUSE_INVALID_NUMBER, CAUSE_REJECTED)
        message = str(refused)
        assert len(message) < 120 and message.isascii() and message.isprintable(), message
        return
    assert re.fullmatch(r"\+[1-9][0-9]{1,14}", number)
