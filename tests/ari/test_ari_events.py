"""Event parsing against real Asterisk 22.10 captures (tests/ari/captures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from faxcore.ari.errors import AriProtocolError
from faxcore.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelLeftBridge,
    ChannelStateChange,
    ChannelVarset,
    Dial,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_event,
    parse_message,
)

CAPTURE = Path(__file__).parent / "captures" / "asterisk-22.10-events.jsonl"
LINES = CAPTURE.read_text().splitlines()


def first(kind: str) -> str:
    return next(line for line in LINES if json.loads(line)["type"] == kind)


def test_every_captured_event_parses_to_its_class_or_unknown() -> None:
    kinds = {}
    for line in LINES:
        event = parse_message(line)
        assert event.type == json.loads(line)["type"]
        assert event.application == "faxcore"
        kinds[event.type] = type(event).__name__
    assert kinds["StasisStart"] == "StasisStart"
    assert kinds["ChannelDestroyed"] == "ChannelDestroyed"
    assert kinds["ChannelDialplan"] == "UnknownEvent"  # not modelled: kept raw
    assert len(kinds) >= 15


def test_stasis_start_carries_dialplan_args_and_channel() -> None:
    event = parse_message(first("StasisStart"))
    assert isinstance(event, StasisStart)
    assert event.args == ("inbound", "+33100000001")
    ch = event.channel
    assert ch.id == "1795402054.1"
    assert ch.name == "Local/+33100000001@faxcore-inbound-00000000;2"
    assert ch.state == "Ring"
    assert (ch.caller.name, ch.caller.number) == ("Alice", "0612345678")
    assert ch.connected.number == "0612345678"
    assert (ch.dialplan.context, ch.dialplan.exten, ch.dialplan.priority) == (
        "faxcore-inbound", "+33100000001", 2)
    assert ch.dialplan.app_data == "faxcore,inbound,+33100000001"
    assert ch.language == "en"
    assert ch.creationtime == datetime(2026, 11, 23, 2, 47, 34, 169000, tzinfo=UTC)
    assert event.timestamp == datetime(2026, 11, 23, 2, 47, 34, 173000, tzinfo=UTC)


def test_channel_destroyed_has_q850_cause_and_text() -> None:
    event = parse_message(first("ChannelDestroyed"))
    assert isinstance(event, ChannelDestroyed)
    assert (event.cause, event.cause_txt) == (16, "Normal Clearing")


def test_unallocated_rejection_destroys_with_cause_1() -> None:
    causes = [parse_message(line) for line in LINES if '"ChannelDestroyed"' in line]
    assert any(isinstance(e, ChannelDestroyed) and e.cause == 1
               and e.cause_txt == "Unallocated (unassigned) number" for e in causes)


def test_channel_events_of_a_call() -> None:
    assert isinstance(parse_message(first("StasisEnd")), StasisEnd)
    state = parse_message(first("ChannelStateChange"))
    assert isinstance(state, ChannelStateChange) and state.channel.state == "Up"
    hangup = parse_message(first("ChannelHangupRequest"))
    assert isinstance(hangup, ChannelHangupRequest)
    assert (hangup.cause, hangup.soft) == (32, True)
    dtmf = parse_message(first("ChannelDtmfReceived"))
    assert isinstance(dtmf, ChannelDtmfReceived)
    assert (dtmf.digit, dtmf.duration_ms) == ("5", 100)
    varset = parse_message(first("ChannelVarset"))
    assert isinstance(varset, ChannelVarset)
    assert varset.variable == "STASISSTATUS" and varset.channel is not None


def test_playback_recording_bridge_and_dial_events() -> None:
    started = parse_message(first("PlaybackStarted"))
    finished = parse_message(first("PlaybackFinished"))
    assert isinstance(started, PlaybackStarted) and isinstance(finished, PlaybackFinished)
    assert (finished.playback.id, finished.playback.state) == ("pb1", "done")
    assert finished.playback.target_uri == "channel:1795402054.1"
    rec = parse_message(first("RecordingFinished"))
    assert isinstance(rec, RecordingFinished)
    assert (rec.recording.name, rec.recording.state, rec.recording.duration) == ("cap2", "done", 0)
    assert isinstance(parse_message(first("RecordingStarted")), RecordingStarted)
    entered = parse_message(first("ChannelEnteredBridge"))
    assert isinstance(entered, ChannelEnteredBridge)
    assert entered.bridge.id == "br1" and entered.bridge.channels == ("1795402054.1",)
    assert entered.channel is not None and entered.channel.id == "1795402054.1"
    left = parse_message(first("ChannelLeftBridge"))
    assert isinstance(left, ChannelLeftBridge) and left.bridge.channels == ()
    dial = parse_message(first("Dial"))
    assert isinstance(dial, Dial) and dial.peer is not None
    assert dial.dialstring == "+33100000001@faxcore-inbound"


def test_unknown_event_type_is_kept_raw() -> None:
    data = {"type": "ChannelHold", "timestamp": "2026-11-23T02:47:34.169+0000",
            "application": "faxcore", "musicclass": "default"}
    event = parse_event(data)
    assert isinstance(event, UnknownEvent)
    assert event.raw["musicclass"] == "default"


def test_unknown_fields_and_missing_optional_fields_are_tolerated() -> None:
    data = json.loads(first("StasisStart"))
    data["brand_new_field"] = {"x": 1}
    data["channel"]["another_new_field"] = 3
    del data["channel"]["caller"], data["channel"]["creationtime"], data["args"]
    event = parse_event(data)
    assert isinstance(event, StasisStart)
    assert event.args == () and event.channel.caller.number == ""
    assert event.channel.creationtime is None


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "ARI event is not JSON: 'not json'"),
    ("[1, 2]", "ARI event is not a JSON object: '[1, 2]'"),
    ('{"timestamp": "x"}', "ARI event without 'type'"),
    ('{"type": "StasisStart"}', "StasisStart event without 'channel'"),
    ('{"type": "StasisEnd", "channel": {"name": "x"}}', "channel without 'id'"),
    ('{"type": "PlaybackStarted"}', "PlaybackStarted event without 'playback'"),
])
def test_malformed_known_events_raise_protocol_errors(text: str, message: str) -> None:
    with pytest.raises(AriProtocolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_message(text)
