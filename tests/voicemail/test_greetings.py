"""Greeting choice (V1): overrides win, missing recordings fall back to the system greeting."""

from faxcore.voicemail.greetings import greeting_plan, spoken_number

NUMBER = "+33972100001"


def test_system_greeting_is_the_intro_prompt() -> None:
    assert greeting_plan(NUMBER, "system", None, set()) == [("sound", "vm-intro")]


def test_number_greeting_speaks_the_national_digits() -> None:
    plan = greeting_plan(NUMBER, "number", None, set())
    assert ("digits", "0972100001") in plan and plan[-1] == ("sound", "vm-intro")


def test_name_and_personal_greetings_need_their_recording() -> None:
    assert greeting_plan(NUMBER, "name", None, {"name"})[0] == ("greeting", "name")
    assert greeting_plan(NUMBER, "name", None, set()) == [("sound", "vm-intro")]
    assert greeting_plan(NUMBER, "personal", None, {"personal"}) == [("greeting", "personal")]
    assert greeting_plan(NUMBER, "personal", None, set()) == [("sound", "vm-intro")]


def test_enabled_override_replaces_the_base_greeting() -> None:
    recorded = {"personal", "temporary"}
    assert greeting_plan(NUMBER, "personal", "temporary", recorded) == [("greeting", "temporary")]
    assert ("sound", "vm-isonphone") in greeting_plan(NUMBER, "personal", "busy", recorded)


def test_spoken_number_keeps_foreign_numbers_whole() -> None:
    assert spoken_number("+4930123456") == "4930123456"
