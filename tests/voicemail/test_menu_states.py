"""The voicemail menu as a state machine (Hypothesis stateful testing).

A hostile or clumsy caller presses any key (A-D too), waits any time, and
the adapter answers logins, playbacks and recordings whenever the menu asked
for them. Whatever the order, no input raises, and after every step the menu
is in a state it can leave: a known ``MenuState``, a current message that
exists, a timer or a playback pending unless it waits for the adapter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from faxcore.voicemail.errors import MenuError
from faxcore.voicemail.menu import (
    MENU,
    Action,
    Envelope,
    Hangup,
    Login,
    MenuOptions,
    MenuState,
    MessageInfo,
    Play,
    RecordGreeting,
    VoicemailMenu,
)

KEYS = st.sampled_from([*list("0123456789*#ABCD"), "", "12", "\x00", ","])
CALLERS = st.sampled_from(["0601020304", "", "+33612345678", "06,sound:tt-monkeys",
                           "\x1b[2J0612", "9" * 80])
MESSAGES = st.lists(st.builds(
    MessageInfo, id=st.integers(1, 10**6), caller=CALLERS,
    received_at=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    urgent=st.booleans(), new=st.booleans(), deleted=st.booleans()), max_size=4)


class MenuMachine(RuleBasedStateMachine):
    """Drives one ``VoicemailMenu`` the way the ARI adapter does."""

    def __init__(self) -> None:
        super().__init__()
        self.menu: VoicemailMenu | None = None
        self.now = 0.0
        self.playing: list[int] = []
        self.login_pending = False
        self.recording_pending = False
        self.hung_up = False

    def _take(self, actions: list[Action]) -> None:
        for action in actions:
            assert not self.hung_up, "action after the hang-up"
            if isinstance(action, Play):
                self.playing.append(action.seq)
                for kind, value in action.media:
                    assert kind in {"sound", "number", "digits", "message"}
                    assert "," not in value
                    if kind == "digits":
                        assert value.isdigit() and value.isascii(), value
            elif isinstance(action, Login):
                self.login_pending = True
            elif isinstance(action, RecordGreeting):
                self.recording_pending = True
            elif isinstance(action, Hangup):
                self.hung_up = True

    @precondition(lambda self: self.menu is None)
    @rule(own=st.booleans(), skip_pin=st.booleans(), autoplay=st.booleans(),
          envelope=st.sampled_from(list(Envelope)))
    def answer(self, own: bool, skip_pin: bool, autoplay: bool, envelope: Envelope) -> None:
        self.menu = VoicemailMenu(mailbox="+33140000001" if own else None, skip_pin=skip_pin,
                                  options=MenuOptions(envelope=envelope, autoplay=autoplay))
        self._take(self.menu.start(self.now))

    @precondition(lambda self: self.menu is not None and not self.hung_up)
    @rule(key=KEYS)
    def press(self, key: str) -> None:
        assert self.menu is not None
        self._take(self.menu.digit(key, self.now))

    @precondition(lambda self: self.menu is not None and not self.hung_up)
    @rule(seconds=st.floats(0, 30))
    def wait(self, seconds: float) -> None:
        assert self.menu is not None
        self.now += seconds
        self._take(self.menu.handle_timer(self.now))

    @precondition(lambda self: self.menu is not None and bool(self.playing) and not self.hung_up)
    @rule(index=st.integers(0, 10), failed=st.booleans())
    def playback_ends(self, index: int, failed: bool) -> None:
        assert self.menu is not None
        seq = self.playing.pop(index % len(self.playing))  # stale ones too
        self._take(self.menu.playback_done(seq, self.now, failed=failed))

    @precondition(lambda self: self.login_pending and not self.hung_up)
    @rule(ok=st.booleans(), messages=MESSAGES)
    def login_answer(self, ok: bool, messages: list[MessageInfo]) -> None:
        assert self.menu is not None
        self.login_pending = False
        if ok:
            self._take(self.menu.logged_in(messages, "+33140000001", self.now))
        else:
            self._take(self.menu.login_failed(self.now))

    @precondition(lambda self: self.recording_pending and not self.hung_up)
    @rule(saved=st.booleans())
    def greeting_answer(self, saved: bool) -> None:
        assert self.menu is not None
        self.recording_pending = False
        self._take(self.menu.greeting_recorded(saved, self.now))

    @precondition(lambda self: self.hung_up)
    @rule()
    def call_over(self) -> None:
        """The adapter hung up: it feeds the menu nothing more."""

    @invariant()
    def menu_can_go_on(self) -> None:
        menu = self.menu
        if menu is None or self.hung_up:
            return
        assert isinstance(menu.state, MenuState)
        assert (menu.state is MenuState.CHECKING) == self.login_pending
        if menu.state is MenuState.MESSAGE:
            assert 0 <= menu.current < len(menu.messages)
        assert not any(m.deleted for m in menu.messages)
        waiting = self.login_pending or self.recording_pending
        # Something will move the call on: the adapter's answer, a prompt, or the timer.
        assert waiting or self.playing or menu.get_timer() is not None, menu.state


MenuMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                         deadline=timedelta(seconds=2))
test_no_key_or_event_sequence_raises_or_strands_the_menu = MenuMachine.TestCase


def test_the_move_table_covers_every_state_and_goodbye_is_final() -> None:
    assert MENU.open_states() == set(MenuState) - {MenuState.DONE}
    assert MENU.sources(MenuState.DONE) == set(MenuState) - {MenuState.DONE}
    menu = VoicemailMenu()
    menu.start(0.0)
    with pytest.raises(MenuError, match="from mailbox to message"):
        menu._go(MenuState.MESSAGE)  # no way round the login
