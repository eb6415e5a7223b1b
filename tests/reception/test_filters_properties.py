"""R4 filter decisions under any caller and any entries (Hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from faxcore.calls.numbers import digits_of
from faxcore.domain import FilterKind
from faxcore.reception.errors import InvalidFilter
from faxcore.reception.filters import FilterEntry, decide, matches, normalize_pattern

patterns = st.from_regex(r"\+?[0-9]{1,12}\*?", fullmatch=True)
entries = st.lists(st.builds(FilterEntry, st.sampled_from(list(FilterKind)), patterns),
                   max_size=6)
callers = st.text(max_size=30) | st.from_regex(r"(\+|00|0)?[0-9]{0,15}", fullmatch=True)


@given(callers, st.booleans(), st.booleans(), entries)
def test_no_caller_passes_a_whitelist_without_matching_it_nor_a_blacklist_entry(
        caller: str, withheld: bool, refuse_anonymous: bool,
        listed: list[FilterEntry]) -> None:
    refusal = decide(caller, withheld=withheld, refuse_anonymous=refuse_anonymous,
                     entries=listed)
    if refusal is not None:
        assert refusal.cause == 21
        return
    has_number = bool(digits_of(caller))
    allowed = [e for e in listed if e.kind is FilterKind.ALLOW]
    if allowed:
        assert has_number and any(matches(e.pattern, caller) for e in allowed)
    if has_number:
        assert not any(matches(e.pattern, caller) for e in listed
                       if e.kind is FilterKind.BLOCK)
    if refuse_anonymous:
        assert has_number and not withheld


@given(st.text(max_size=30))
def test_a_pattern_is_refused_with_the_filter_error_or_normalised_for_good(text: str) -> None:
    try:
        pattern = normalize_pattern(text)
    except InvalidFilter:
        return
    assert normalize_pattern(pattern) == pattern
    assert 1 <= len(digits_of(pattern)) <= 20


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True), st.integers(1, 8))
def test_a_number_matches_itself_and_its_prefixes(number: str, cut: int) -> None:
    assert matches(number, number)
    assert matches(number[: max(2, len(number) - cut)] + "*", number)
