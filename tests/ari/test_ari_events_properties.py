"""ARI event parsing under arbitrary JSON (Hypothesis): only ``AriProtocolError`` escapes.

The WebSocket loop skips an event that raises ``AriProtocolError`` and keeps
serving; any other exception would end the event stream and every call with it.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from faxcore.ari.errors import AriProtocolError
from faxcore.ari.events import (
    _BUILDERS,
    ChannelDtmfReceived,
    StasisStart,
    parse_event,
    parse_message,
)
from faxcore.security.untrusted import DTMF_KEYS

_KINDS = [*sorted(_BUILDERS), "Unknown", ""]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                           max_leaves=20)
_FIELDS = ("channel", "peer", "caller", "replace_channel", "playback", "recording", "bridge",
           "args", "digit", "cause", "timestamp", "application", "id", "number", "name",
           "dialplan", "exten", "duration", "state", "soft")


def _shaped(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with ARI's field names, so parsers go deep instead of failing at the top."""
    return st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=8), inner, max_size=8)


ari_like = st.recursive(scalars, lambda inner: _shaped(inner) | st.lists(inner, max_size=3),
                        max_leaves=30)


def _parse(data: dict[str, Any]) -> None:
    with contextlib.suppress(AriProtocolError):
        parse_event(data)


@settings(max_examples=200)
@given(kind=st.sampled_from(_KINDS), body=_shaped(ari_like))
def test_any_object_with_a_known_type_parses_or_raises_only_ari_protocol_error(
        kind: str, body: dict[str, Any]) -> None:
    _parse({**body, "type": kind})


@settings(max_examples=200)
@given(json_values)
def test_any_json_document_parses_or_raises_only_ari_protocol_error(value: Any) -> None:
    try:
        text = json.dumps(value)
    except ValueError:
        return  # not representable as JSON text (huge ints are, NaN is)
    with contextlib.suppress(AriProtocolError):
        parse_message(text)


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_any_bytes_or_text_message_parses_or_raises_only_ari_protocol_error(
        raw: bytes | str) -> None:
    with contextlib.suppress(AriProtocolError):
        parse_message(raw)


@given(digit=json_values)
def test_a_dtmf_event_carries_one_known_key_or_none(digit: Any) -> None:
    event = parse_event({"type": "ChannelDtmfReceived", "channel": {"id": "c1"},
                         "digit": digit})
    assert isinstance(event, ChannelDtmfReceived)
    assert event.digit == "" or (len(event.digit) == 1 and event.digit in DTMF_KEYS)


@given(number=json_values, name=json_values, args=st.lists(json_values, max_size=12))
def test_caller_id_and_stasis_arguments_come_out_bounded_and_printable(
        number: Any, name: Any, args: list[Any]) -> None:
    event = parse_event({"type": "StasisStart", "args": args, "channel": {
        "id": "c1", "caller": {"number": number, "name": name}}})
    assert isinstance(event, StasisStart)
    caller = event.channel.caller
    assert len(caller.number) <= 21
    assert caller.number == "" or caller.number.lstrip("+").isdigit()
    assert len(caller.name) <= 64 and caller.name.isprintable()
    assert len(event.args) <= 8
    assert all(len(a) <= 64 and a.isprintable() for a in event.args)
