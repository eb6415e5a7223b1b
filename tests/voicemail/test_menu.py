"""The retrieval menu state machine (V3, V4, V10), driven key by key."""

from __future__ import annotations

from datetime import datetime

import pytest

from faxcore.voicemail.errors import MenuError
from faxcore.voicemail.menu import (
    MAX_LOGIN_ATTEMPTS,
    MAX_TYPE_AHEAD,
    Action,
    ChangePin,
    Envelope,
    Hangup,
    Login,
    MenuOptions,
    MenuState,
    MessageInfo,
    MoveMessage,
    Play,
    RecordGreeting,
    StopPlayback,
    VoicemailMenu,
)


def msg(id: int, *, new: bool = True, urgent: bool = False, minute: int = 0,
        caller: str = "0102030405") -> MessageInfo:
    return MessageInfo(id=id, caller=caller, received_at=datetime(2026, 11, 23, 9, minute),
                       urgent=urgent, new=new)


class Caller:
    """Plays the adapter: finishes every prompt at once unless told otherwise."""

    def __init__(self, menu: VoicemailMenu) -> None:
        self.menu = menu
        self.now = 0.0
        self.log: list[Action] = []

    def _run(self, actions: list[Action], finish: bool = True) -> list[Action]:
        self.log += actions
        out = list(actions)
        plays = [a for a in actions if isinstance(a, Play)]
        if finish and plays:
            out += self._run(self.menu.playback_done(plays[-1].seq, self.now))
        return out

    def start(self, finish: bool = True) -> list[Action]:
        return self._run(self.menu.start(self.now), finish)

    def press(self, keys: str, finish: bool = True) -> list[Action]:
        out: list[Action] = []
        for key in keys:
            out += self._run(self.menu.digit(key, self.now), finish)
        return out

    def login_ok(self, messages: list[MessageInfo], number: str = "+33140000001"
                 ) -> list[Action]:
        return self._run(self.menu.logged_in(messages, number, self.now))

    def login_bad(self) -> list[Action]:
        return self._run(self.menu.login_failed(self.now))

    def wait(self, seconds: float) -> list[Action]:
        self.now += seconds
        return self._run(self.menu.handle_timer(self.now))


def sounds(actions: list[Action]) -> list[str]:
    return [value for a in actions if isinstance(a, Play) for kind, value in a.media
            if kind == "sound"]


def played_messages(actions: list[Action]) -> list[int]:
    return [int(value) for a in actions if isinstance(a, Play) for kind, value in a.media
            if kind == "message"]


def logged_in(messages: list[MessageInfo], **options: object) -> Caller:
    caller = Caller(VoicemailMenu(mailbox="+33140000001",
                                  options=MenuOptions(**options)))  # type: ignore[arg-type]
    caller.start()
    caller.press("4826#")
    caller.login_ok(messages)
    return caller


def test_any_phone_is_asked_mailbox_then_pin_and_gets_one_login() -> None:
    caller = Caller(VoicemailMenu())
    assert sounds(caller.start()) == ["vm-login"]
    assert sounds(caller.press("140000001#")) == ["vm-password"]
    assert caller.press("4826#") == [Login("140000001", "4826")]
    assert caller.menu.state is MenuState.CHECKING


def test_own_line_is_asked_the_pin_only() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    assert sounds(caller.start()) == ["vm-password"]
    assert caller.press("4826#") == [Login("+33140000001", "4826")]


def test_own_line_with_skip_pin_logs_in_at_once() -> None:
    menu = VoicemailMenu(mailbox="+33140000001", skip_pin=True)
    assert menu.start(0.0) == [Login("+33140000001", None)]


def test_a_pause_ends_the_typed_digits_like_hash() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    assert caller.press("4826") == []
    assert caller.wait(4.9) == []
    assert caller.wait(0.2) == [Login("+33140000001", "4826")]


def test_star_while_typing_starts_the_entry_again() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    assert caller.press("99*4826#") == [Login("+33140000001", "4826")]


def test_a_key_during_a_prompt_stops_it_and_counts_as_input() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    (prompt,) = caller.start(finish=False)
    assert isinstance(prompt, Play)
    assert caller.press("4", finish=False) == [StopPlayback(prompt.seq)]
    assert caller.menu.playback_done(prompt.seq, caller.now) == []  # stale, ignored
    assert caller.press("826#") == [Login("+33140000001", "4826")]


def test_unknown_mailbox_and_wrong_pin_sound_the_same() -> None:
    first = Caller(VoicemailMenu())
    first.start()
    first.press("999#1234#")
    second = Caller(VoicemailMenu())
    second.start()
    second.press("140000001#9999#")
    assert first.login_bad() == second.login_bad()
    assert first.menu.state is MenuState.MAILBOX


def test_three_wrong_pins_end_the_call() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    for attempt in range(1, MAX_LOGIN_ATTEMPTS + 1):
        caller.press("0000#")
        actions = caller.login_bad()
        assert (Hangup() in actions) == (attempt == MAX_LOGIN_ATTEMPTS)
    assert sounds(actions)[-1] == "vm-goodbye"
    assert caller.menu.state is MenuState.DONE


def test_keys_during_goodbye_do_not_prevent_the_hangup() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    caller.press("0000#")
    caller.login_bad()
    caller.press("0000#")
    caller.login_bad()
    caller.press("0000#")
    goodbye = caller._run(caller.menu.login_failed(caller.now), finish=False)
    assert caller.press("5", finish=False) == []
    (play,) = goodbye
    assert isinstance(play, Play)
    assert caller.menu.playback_done(play.seq, caller.now) == [Hangup()]


def test_counts_of_new_and_old_are_said_after_login() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    caller.press("4826#")
    (play,) = caller.menu.logged_in([msg(1), msg(2), msg(3, new=False)], "+33140000001", 0.0)
    assert isinstance(play, Play)
    assert play.media[:7] == (("sound", "vm-youhave"), ("number", "2"), ("sound", "vm-INBOX"),
                              ("sound", "vm-messages"), ("sound", "vm-and"),
                              ("number", "1"), ("sound", "vm-Old"))


def test_no_messages_is_said_as_no_messages() -> None:
    caller = logged_in([])
    assert ("sound", "vm-no") in [m for a in caller.log if isinstance(a, Play)
                                  for m in a.media]
    assert sounds(caller.press("1"))[:2] == ["vm-no", "vm-messages"]


def test_new_urgent_messages_play_first_then_new_then_old() -> None:
    caller = logged_in([msg(1, new=False), msg(2, minute=5), msg(3, urgent=True, minute=9)])
    assert played_messages(caller.press("1")) == [3]
    assert played_messages(caller.press("6")) == [2]
    assert played_messages(caller.press("6")) == [1]
    assert sounds(caller.press("6"))[0] == "vm-nomore"


def test_a_message_heard_to_the_end_moves_to_old_once() -> None:
    caller = logged_in([msg(7)])
    assert MoveMessage(7, "old") in caller.press("1")
    assert not [a for a in caller.press("5") if isinstance(a, MoveMessage)]


def test_a_message_cut_short_stays_new() -> None:
    caller = logged_in([msg(7)])
    caller.press("1", finish=False)
    assert not [a for a in caller.press("6") if isinstance(a, MoveMessage)]


def test_a_message_asterisk_failed_to_play_stays_new() -> None:
    caller = logged_in([msg(7)])
    (play, *_rest) = caller.press("1", finish=False)
    assert isinstance(play, Play)
    assert caller.menu.playback_done(play.seq, caller.now, failed=True) == []
    assert caller.menu.messages[0].new


def test_repeat_previous_and_next() -> None:
    caller = logged_in([msg(1, minute=1), msg(2, minute=2)])
    caller.press("1")
    assert played_messages(caller.press("5")) == [1]
    assert played_messages(caller.press("6")) == [2]
    assert played_messages(caller.press("4")) == [1]
    assert sounds(caller.press("4"))[0] == "vm-first"
    assert caller.menu.state is MenuState.MAIN


def test_delete_moves_to_deleted_and_plays_the_next() -> None:
    caller = logged_in([msg(1, minute=1), msg(2, minute=2)])
    caller.press("1")
    actions = caller.press("7")
    assert MoveMessage(1, "deleted") in actions
    assert played_messages(actions) == [2]
    actions = caller.press("7")
    assert MoveMessage(2, "deleted") in actions
    assert "vm-nomore" in sounds(actions)
    assert caller.menu.state is MenuState.MAIN
    assert "vm-no" in sounds(caller.press("1"))


def test_save_keeps_the_message_in_old() -> None:
    caller = logged_in([msg(1)])
    caller.press("1")
    actions = caller.press("9")
    assert MoveMessage(1, "old") in actions
    assert "vm-msgsaved" in sounds(actions)


def test_mark_new_puts_a_heard_message_back_in_new() -> None:
    caller = logged_in([msg(1, new=False)])
    caller.press("1")
    assert MoveMessage(1, "new") in caller.press("8")


def test_envelope_says_time_and_caller_before_the_message() -> None:
    caller = logged_in([msg(1, minute=7, caller="0601020304")])
    (play, *_rest) = caller.press("1")
    assert isinstance(play, Play)
    media = list(play.media)
    assert ("digits", "0601020304") in media
    assert ("number", "7") in media and ("sound", "digits/mon-10") in media
    assert media.index(("digits", "0601020304")) < media.index(("message", "1"))


def test_message_only_option_skips_the_envelope() -> None:
    caller = logged_in([msg(1)], envelope=Envelope.MESSAGE)
    (play, *_rest) = caller.press("1")
    assert isinstance(play, Play)
    assert not [m for m in play.media if m[0] == "digits"]


def test_envelope_only_option_waits_for_5_to_play_the_message() -> None:
    caller = logged_in([msg(1)], envelope=Envelope.ENVELOPE)
    assert played_messages(caller.press("1")) == []
    assert played_messages(caller.press("5")) == [1]


def test_3_says_the_envelope_again() -> None:
    caller = logged_in([msg(1, caller="0601020304")])
    caller.press("1")
    (play,) = [a for a in caller.press("3") if isinstance(a, Play)]
    assert ("digits", "0601020304") in play.media


def test_autoplay_starts_the_first_message_after_the_counts() -> None:
    caller = logged_in([msg(1)], autoplay=True)
    assert played_messages(caller.log) == [1]


def test_change_pin_asks_twice_and_refuses_weak_or_mismatched() -> None:
    caller = logged_in([])
    assert sounds(caller.press("0")) == ["vm-options"]
    assert sounds(caller.press("5")) == ["vm-newpassword"]
    assert sounds(caller.press("1234#"))[0] == "vm-invalid-password"
    assert sounds(caller.press("140000001#"))[0] == "vm-invalid-password"  # the line number
    assert sounds(caller.press("4826#")) == ["vm-reenterpassword"]
    assert sounds(caller.press("4827#"))[0] == "vm-mismatch"
    caller.press("4826#")
    actions = caller.press("4826#")
    assert actions[0] == ChangePin("4826")
    assert sounds(actions)[0] == "vm-passchanged"
    assert caller.menu.state is MenuState.MAIN


@pytest.mark.parametrize(("key", "kind", "prompt"), [
    ("1", "unavailable", "vm-rec-unv"), ("2", "busy", "vm-rec-busy"),
    ("3", "name", "vm-rec-name"), ("4", "temporary", "vm-rec-temp")])
def test_options_record_each_greeting_after_its_prompt(key: str, kind: str,
                                                       prompt: str) -> None:
    caller = logged_in([])
    caller.press("0")
    actions = caller.press(key)
    assert sounds(actions) == [prompt]
    assert actions[-1] == RecordGreeting(kind)  # only once the prompt has ended
    assert caller.press("9#") == []  # keys belong to the recording (Asterisk ends it on #)
    assert sounds(caller._run(caller.menu.greeting_recorded(True, caller.now))) == [
        "vm-msgsaved", "vm-options"]
    assert caller.menu.state is MenuState.OPTIONS


def test_a_failed_greeting_recording_is_said_and_back_to_options() -> None:
    caller = logged_in([])
    caller.press("03")
    assert sounds(caller._run(caller.menu.greeting_recorded(False, caller.now)))[0] == "vm-sorry"
    assert sounds(caller.press("*")) == ["vm-onefor", "vm-INBOX", "vm-messages", "vm-opts"]


def test_a_greeting_answer_out_of_turn_is_an_adapter_error() -> None:
    with pytest.raises(MenuError):
        logged_in([]).menu.greeting_recorded(True, 0.0)


def test_silence_reprompts_then_hangs_up() -> None:
    caller = logged_in([])
    for _ in range(3):
        assert sounds(caller.wait(5.0))[0] == "vm-onefor"
    actions = caller.wait(5.0)
    assert sounds(actions) == ["vm-goodbye"] and Hangup() in actions


def test_hash_says_goodbye_and_hangs_up() -> None:
    caller = logged_in([msg(1)])
    caller.press("1")
    assert Hangup() in caller.press("#")


def test_keys_typed_while_the_login_is_checked_act_once_it_is_accepted() -> None:
    """Type-ahead: a caller who knows the menu presses 1 before the counts are said."""
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    caller.press("4826#")
    assert caller.press("1") == []  # nothing happens while the PIN is checked
    actions = caller.login_ok([msg(7)])
    assert played_messages(actions) == [7] and MoveMessage(7, "old") in actions


def test_keys_typed_while_a_refused_login_is_checked_are_not_the_next_pin() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    caller.press("9051#")
    caller.press("4826#")  # typed before "incorrect" was heard
    assert sounds(caller.login_bad()) == ["vm-incorrect", "vm-password"]
    assert caller.menu.state is MenuState.PIN
    assert caller.press("1111#") == [Login("+33140000001", "1111")]


def test_type_ahead_is_bounded() -> None:
    caller = Caller(VoicemailMenu(mailbox="+33140000001"))
    caller.start()
    caller.press("4826#")
    caller.press("6" * 1000)  # '6' is "next message": at most MAX_TYPE_AHEAD of them act
    actions = caller.login_ok([msg(n) for n in range(40)])
    assert len(played_messages(actions)) <= MAX_TYPE_AHEAD + 1


def test_keys_a_to_d_and_other_non_keys_are_ignored() -> None:
    caller = Caller(VoicemailMenu())
    caller.start()
    for key in ("A", "B", "C", "D", "", "12", "\x00"):
        assert caller.menu.digit(key, 0.0) == []
    assert caller.menu.state is MenuState.MAILBOX


def test_a_login_answer_out_of_turn_is_an_adapter_error() -> None:
    with pytest.raises(MenuError):
        VoicemailMenu().logged_in([], "+33140000001", 0.0)
