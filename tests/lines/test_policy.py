"""Line input policy (L1, L2): what is accepted, normalised, and refused with which message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faxcore.domain import LineMode
from faxcore.errors import ValidationError
from faxcore.lines.errors import InvalidLineInput
from faxcore.lines.policy import (
    check_fax_password,
    check_header,
    check_language,
    check_mode,
    check_pin,
    check_sip_password,
    check_station_id,
    normalize_number,
    sip_username_for,
)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("+33123456789", "+33123456789"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("0033 1.23.45.67.89", "+33123456789"),
        ("+1-514-555-0100", "+15145550100"),
        (" +49 30 1234567 ", "+49301234567"),
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_numbers_are_normalised_to_e164(typed: str, normal: str) -> None:
    assert normalize_number(typed) == normal


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "number is empty: give it in international format, e.g. +33123456789"),
        ("01 23 45 67 89", "number '01 23 45 67 89' is not in international format: start "
                           "with + or 00 and the country code, e.g. +33 1 23 45 67 89"),
        ("+33 (1) 23456789", "number '+33 (1) 23456789' may contain only digits, spaces, "
                             "dots and dashes after + or 00"),
        ("+33abc456789", "number '+33abc456789' may contain only digits, spaces, dots and "
                         "dashes after + or 00"),
        ("+1234567", "number '+1234567' must have 8 to 15 digits after + (it has 7)"),
        ("+1234567890123456", "number '+1234567890123456' must have 8 to 15 digits after + "
                              "(it has 16)"),
        ("+033123456789", "number '+033123456789': a country code cannot start with 0"),
        ("+٣٣١٢٣٤٥٦٧٨٩", "number '+٣٣١٢٣٤٥٦٧٨٩' may contain only digits, spaces, dots and "
                         "dashes after + or 00"),
    ],
)
def test_malformed_numbers_are_refused_with_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(InvalidLineInput) as info:
        normalize_number(typed)
    assert str(info.value) == message
    assert isinstance(info.value, ValidationError)


@given(
    st.integers(min_value=1, max_value=9),
    st.text(alphabet="0123456789", min_size=7, max_size=14),
    st.lists(st.sampled_from([" ", ".", "-", ""]), min_size=15, max_size=15),
    st.booleans(),
)
def test_any_formatting_of_a_valid_number_normalises_to_the_same(
    first: int, rest: str, seps: list[str], use_00: bool
) -> None:
    digits = f"{first}{rest}"
    typed = ("00" if use_00 else "+") + "".join(d + s for d, s in zip(digits, seps, strict=False))
    normal = normalize_number(typed)
    assert normal == "+" + digits
    assert normalize_number(normal) == normal
    assert sip_username_for(typed) == digits


@pytest.mark.parametrize("password", ["abcd1234", "Pass-word", "12345678!", "a1" * 10, "!!!!!!!a"])
def test_sip_passwords_with_two_classes_and_8_to_20_chars_pass(password: str) -> None:
    assert check_sip_password(password) == password


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abc123", "SIP password must be 8 to 20 characters long (it has 6)"),
        ("a1" * 10 + "x", "SIP password must be 8 to 20 characters long (it has 21)"),
        ("abcdefgh", "SIP password must mix at least two kinds of characters among digits, "
                     "letters and special characters"),
        ("12345678", "SIP password must mix at least two kinds of characters among digits, "
                     "letters and special characters"),
        ("abcd 1234", "SIP password may contain only letters, digits and ASCII special "
                      "characters (no spaces or accents)"),
        ("écrire123", "SIP password may contain only letters, digits and ASCII special "
                      "characters (no spaces or accents)"),
    ],
)
def test_weak_sip_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(InvalidLineInput) as info:
        check_sip_password(password)
    assert str(info.value) == message


def test_fax_password_length_is_6_to_12() -> None:
    assert check_fax_password("abcdef") == "abcdef"
    assert check_fax_password("abcdef123456") == "abcdef123456"
    for bad, n in (("abcde", 5), ("abcdef1234567", 13)):
        with pytest.raises(InvalidLineInput) as info:
            check_fax_password(bad)
        assert str(info.value) == f"fax password must be 6 to 12 characters long (it has {n})"


@pytest.mark.parametrize("pin", ["2580", "4711", "19283746", "0000000001", "1357"])
def test_reasonable_pins_pass(pin: str) -> None:
    assert check_pin(pin, "+33123456789") == pin


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("123", "PIN must be 4 to 10 digits long (it has 3)"),
        ("12345678901", "PIN must be 4 to 10 digits long (it has 11)"),
        ("12a4", "PIN must contain digits only"),
        ("", "PIN must contain digits only"),
        ("1111", "PIN must not repeat a single digit"),
        ("1234", "PIN must not be an ascending or descending sequence of digits"),
        ("7890", "PIN must not be an ascending or descending sequence of digits"),
        ("9876", "PIN must not be an ascending or descending sequence of digits"),
        ("4789", "PIN must not be the last digits of the line's number"),
        ("54789", "PIN must not be the last digits of the line's number"),
    ],
)
def test_trivial_pins_are_refused(pin: str, message: str) -> None:
    with pytest.raises(InvalidLineInput) as info:
        check_pin(pin, "+33 1 23 45 47 89")
    assert str(info.value) == message


def test_pin_equal_to_number_suffix_is_only_checked_when_a_number_is_given() -> None:
    assert check_pin("4789") == "4789"
    with pytest.raises(InvalidLineInput):
        check_pin("4789", "+33123454789")


def test_modes_are_fax_or_voicemail() -> None:
    assert check_mode("fax") is LineMode.FAX
    assert check_mode(" VoiceMail ") is LineMode.VOICEMAIL
    assert check_mode(LineMode.FAX) is LineMode.FAX
    with pytest.raises(InvalidLineInput) as info:
        check_mode("answering")
    assert str(info.value) == "mode must be 'fax' or 'voicemail', not 'answering'"


def test_station_id_header_and_language_limits() -> None:
    assert check_station_id(" +33 1 23 45 67 89 ") == "+33 1 23 45 67 89"
    with pytest.raises(InvalidLineInput):
        check_station_id("x" * 21)
    with pytest.raises(InvalidLineInput):
        check_station_id("Société")
    assert check_header("Société Dupont - Paris") == "Société Dupont - Paris"
    with pytest.raises(InvalidLineInput):
        check_header("a\nb")
    with pytest.raises(InvalidLineInput):
        check_header("h" * 81)
    assert check_language("en_GB") == "en_GB"
    with pytest.raises(InvalidLineInput):
        check_language("french")


@given(st.text())
def test_any_text_normalises_to_e164_or_is_refused_with_the_line_error(typed: str) -> None:
    try:
        normal = normalize_number(typed)
    except InvalidLineInput:
        return
    digits = normal[1:]
    assert normal[0] == "+" and digits.isascii() and digits.isdigit()
    assert 8 <= len(digits) <= 15 and digits[0] != "0"
    assert normalize_number(normal) == normal
