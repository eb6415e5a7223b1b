"""Dialled-number resolution under any input (Hypothesis): total, and only ever a known line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from faxcore.calls.numbers import candidates, digits_of, national_suffix, pick

e164 = st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True)
dialled = st.text() | st.from_regex(r"(\+|00|0)?[0-9 .\-]{0,18}", fullmatch=True) | e164


@given(dialled)
def test_candidates_are_e164_with_the_dialled_digits(text: str) -> None:
    for candidate in candidates(text):
        assert candidate.startswith("+") and candidate[1:].isdigit()
        assert digits_of(text).endswith(candidate[1:])
    suffix = national_suffix(text)
    assert suffix is None or (suffix.isdigit() and len(suffix) >= 4)


@given(dialled, st.lists(e164, max_size=6))
def test_pick_names_one_of_the_lines_or_none(text: str, lines: list[str]) -> None:
    chosen = pick(text, lines)
    assert chosen is None or chosen in lines


@given(e164, st.lists(e164, max_size=6))
def test_a_line_dialled_in_e164_is_always_that_line(number: str, others: list[str]) -> None:
    assert pick(number, [*others, number]) == number
