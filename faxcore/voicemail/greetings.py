"""Which prompts a caller hears before the beep (V1), as a pure function.

The plan is a list of media items the adapter turns into ARI media URIs:
``("sound", name)`` for Asterisk core sounds, ``("digits", number)`` for a
number spoken digit by digit, ``("greeting", kind)`` for a recorded greeting
of the line. Kept free of I/O so every choice is testable without a call.
"""

from __future__ import annotations

from collections.abc import Collection

# Greetings the line may choose (``faxcore vm greeting use``).
BASE_KINDS = ("system", "number", "name", "personal")
# Extra greetings that override the base one while enabled.
OVERRIDE_KINDS = ("busy", "unavailable", "temporary")
# Recorded files a line may upload (``faxcore vm greeting set --kind``).
RECORDED_KINDS = ("personal", "busy", "unavailable", "temporary", "name")

Media = tuple[str, str]

_INTRO: Media = ("sound", "vm-intro")  # "leave your message after the tone ..."


def spoken_number(number: str) -> str:
    """The digits a caller would dial: a French E.164 number in national form."""
    if number.startswith("+33"):
        return "0" + number[3:]
    return number.lstrip("+")


def greeting_plan(number: str, greeting: str, override: str | None,
                  recorded: Collection[str]) -> list[Media]:
    """The media to play for a line, falling back to the system greeting.

    A recorded greeting that is chosen but missing is never silence: the
    caller hears the system greeting instead.
    """
    if override in OVERRIDE_KINDS and override in recorded:
        return [("greeting", override)]
    if override == "busy":
        return [("sound", "vm-theperson"), ("digits", spoken_number(number)),
                ("sound", "vm-isonphone"), _INTRO]
    if greeting == "personal" and "personal" in recorded:
        return [("greeting", "personal")]
    if greeting == "name" and "name" in recorded:
        return [("greeting", "name"), ("sound", "vm-isunavail"), _INTRO]
    if greeting == "number":
        return [("sound", "vm-theperson"), ("digits", spoken_number(number)),
                ("sound", "vm-isunavail"), _INTRO]
    return [_INTRO]
