"""Message recording names carry the line and caller that keep a message after a crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from faxcore.voicemail.recording import (
    CALLER_BYTES,
    message_recording_name,
    parse_message_recording,
)


@given(st.integers(min_value=1, max_value=2**31), st.text(max_size=40))
def test_a_message_recording_name_gives_back_its_line_and_caller(line_id: int,
                                                                 caller: str) -> None:
    name = message_recording_name(line_id, caller)
    assert all(c.isalnum() or c == "-" for c in name) and len(name) < 200
    parsed = parse_message_recording(name)
    assert parsed is not None and parsed[0] == line_id
    if len(caller.encode()) <= CALLER_BYTES:
        assert parsed[1] == caller


@given(st.text(max_size=80))
def test_any_other_name_is_not_taken_for_a_message(name: str) -> None:
    parsed = parse_message_recording(name)
    assert parsed is None or name.startswith("faxcore-msg-")
