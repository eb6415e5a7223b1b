"""Cleaning of caller-chosen strings (caller id, dialled number, T.30 station id, DTMF)."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from faxcore.security import untrusted

anything = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
            | st.binary() | st.lists(st.text(), max_size=3))


def test_caller_number_keeps_plus_and_digits_only() -> None:
    assert untrusted.caller_number("+33 6 12-34.56(78)") == "+33612345678"
    assert untrusted.caller_number("0612,sound:tt-monkeys") == "0612"
    assert untrusted.caller_number("anonymous") == ""
    assert untrusted.caller_number("+") == ""
    assert untrusted.caller_number("06\x00\x1b[2J12") == "06212"
    assert untrusted.caller_number("٠١٢٣") == ""  # digits of other scripts are not phone digits


def test_a_caller_number_longer_than_20_digits_is_cut_to_20() -> None:
    assert untrusted.caller_number("+" + "9" * 500) == "+" + "9" * 20
    assert untrusted.caller_number("1" * 10_000_000) == "1" * 20


def test_dialled_number_keeps_keypad_keys() -> None:
    assert untrusted.dialled_number("+33972100008") == "+33972100008"
    assert untrusted.dialled_number("*98#") == "*98#"
    assert untrusted.dialled_number("+339;x=1") == "+3391"


def test_station_id_is_printable_ascii_of_at_most_20() -> None:
    assert untrusted.station_id("  +33 1 23 45 67 89 ") == "+33 1 23 45 67 89"
    assert untrusted.station_id("EVIL\r\nBcc: x@y\x07") == "EVIL Bcc: x@y"
    assert untrusted.station_id("Ünïcode fax") == "n code fax"
    assert len(untrusted.station_id("X" * 1000)) == 20


def test_text_turns_controls_and_separators_into_single_spaces() -> None:
    assert untrusted.text("Bob\x1b[31m\nRed\u2028\u202eevil", 64) == "Bob [31m Red evil"
    assert untrusted.text("a" * 100, 10) == "a" * 10


def test_dtmf_key_ignores_a_to_d_and_anything_else() -> None:
    assert [untrusted.dtmf_key(k) for k in "0123456789*#"] == list("0123456789*#")
    for other in ("A", "B", "C", "D", "", "11", None, 1, "\x00"):
        assert untrusted.dtmf_key(other) == ""


@given(anything)
def test_every_cleaner_is_total_bounded_and_printable(value: Any) -> None:
    number = untrusted.caller_number(value)
    assert len(number) <= 21 and all(c in "+0123456789" for c in number)
    assert "+" not in number[1:] and number != "+"
    dialled = untrusted.dialled_number(value)
    assert len(dialled) <= 21 and all(c in "+0123456789*#" for c in dialled)
    station = untrusted.station_id(value)
    assert len(station) <= 20 and all(" " <= c <= "~" for c in station)
    name = untrusted.text(value)
    assert len(name) <= 64 and name.isprintable() and name == name.strip()
    assert untrusted.dtmf_key(value) in {"", *"0123456789*#"}


@given(st.text())
# Found by Hypothesis in a CI run: the cut at 64 characters ended on a space.
@example("0" * 63 + " 0")
def test_cleaning_twice_changes_nothing(value: str) -> None:
    for clean in (untrusted.caller_number, untrusted.dialled_number, untrusted.station_id,
                  untrusted.text):
        once = clean(value)
        assert clean(once) == once
