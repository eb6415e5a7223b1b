"""The phone menu for retrieving messages (V3, V4, V10), without I/O.

``VoicemailMenu`` is fed what happens on the call (a key pressed, a prompt
finished, the time) and answers with actions (play, stop, log in, move a
message, change the PIN, hang up); it never touches a channel, a database
or a clock, so every path is unit-tested in microseconds. The ARI adapter
(``faxcore.voicemail.retrieval``) only carries actions out and events in.

Keys follow Asterisk's VoiceMail() so callers used to it feel at home:
main menu 1 play, 0 options, * help, # goodbye; after a message 4 previous,
5 repeat, 6 next, 7 delete, 9 save, 8 mark new, 3 envelope; options 1 record
the unavailable greeting, 2 the busy one, 3 the name, 4 the temporary one, 5
change PIN, * back. Digits are entered followed by ``#`` or a pause.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from faxcore.lines import policy
from faxcore.lines.errors import InvalidLineInput
from faxcore.security.untrusted import DTMF_KEYS, caller_number
from faxcore.transitions import StateTable
from faxcore.voicemail.errors import MenuError

# ("sound", name) core sound; ("number", n) said as a number; ("digits", s)
# said digit by digit; ("message", id) a message's audio.
Media = tuple[str, str]

MAX_LOGIN_ATTEMPTS = 3
MAX_REPROMPTS = 3
MAX_TYPE_AHEAD = 16  # keys kept while a login is checked


class MenuState(enum.Enum):
    """Where the caller is in the menu."""

    MAILBOX = "mailbox"        # typing the mailbox number
    PIN = "pin"                # typing the PIN
    CHECKING = "checking"      # waiting for the adapter's login answer
    MAIN = "main"              # counts heard, choosing
    MESSAGE = "message"        # a message played or playing
    OPTIONS = "options"        # mailbox options
    NEW_PIN = "new_pin"        # typing a new PIN
    CONFIRM_PIN = "confirm_pin"  # typing it again
    RECORDING = "recording"    # recording a greeting (Asterisk ends it on #)
    DONE = "done"              # goodbye said, hanging up


_S = MenuState
# Every move the menu makes (as h11's ``_state.py``): ``Menu._go`` refuses any other.
# Any state but DONE may say goodbye (three wrong PINs, too many reprompts, '#').
MENU = StateTable("menu", {
    _S.MAILBOX: frozenset({_S.MAILBOX, _S.PIN, _S.CHECKING, _S.DONE}),
    _S.PIN: frozenset({_S.CHECKING, _S.DONE}),
    _S.CHECKING: frozenset({_S.MAIN, _S.PIN, _S.MAILBOX, _S.DONE}),
    _S.MAIN: frozenset({_S.MAIN, _S.MESSAGE, _S.OPTIONS, _S.DONE}),
    _S.MESSAGE: frozenset({_S.MESSAGE, _S.MAIN, _S.OPTIONS, _S.DONE}),
    _S.OPTIONS: frozenset({_S.NEW_PIN, _S.RECORDING, _S.MAIN, _S.OPTIONS, _S.DONE}),
    _S.NEW_PIN: frozenset({_S.NEW_PIN, _S.CONFIRM_PIN, _S.DONE}),
    _S.CONFIRM_PIN: frozenset({_S.MAIN, _S.NEW_PIN, _S.DONE}),
    _S.RECORDING: frozenset({_S.OPTIONS, _S.DONE}),
    _S.DONE: frozenset(),
}, MenuError)


class Envelope(enum.StrEnum):
    """What is said before a message (V4)."""

    BOTH = "both"          # caller and time, then the message
    ENVELOPE = "envelope"  # caller and time only; 5 plays the message
    MESSAGE = "message"    # the message only


@dataclass(frozen=True)
class MessageInfo:
    """A message as the menu needs it; the adapter builds these from the store."""

    id: int
    caller: str
    received_at: datetime  # in the mailbox's local time, as it will be said
    urgent: bool
    new: bool
    deleted: bool = False


@dataclass(frozen=True)
class Play:
    """Play these media in order; a key stops them (``StopPlayback`` follows)."""

    media: tuple[Media, ...]
    seq: int


@dataclass(frozen=True)
class StopPlayback:
    """Stop the playback ``seq`` at once: the caller pressed a key."""

    seq: int


@dataclass(frozen=True)
class Login:
    """Check this mailbox (None: the calling line's own) and PIN (None: skip-PIN)."""

    mailbox: str | None
    pin: str | None


@dataclass(frozen=True)
class MoveMessage:
    """Put a message in a folder: ``old`` (heard or saved), ``new`` or ``deleted``."""

    message_id: int
    folder: str


@dataclass(frozen=True)
class ChangePin:
    """Store this new PIN for the logged-in mailbox."""

    pin: str


@dataclass(frozen=True)
class RecordGreeting:
    """Record the caller after a beep and keep it as the mailbox's ``kind`` greeting.

    The adapter answers with ``VoicemailMenu.greeting_recorded``.
    """

    kind: str


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Action = Play | StopPlayback | Login | MoveMessage | ChangePin | RecordGreeting | Hangup

_KEYS_ENDING_INPUT = "#"
# Options keys that record a greeting, its kind and the prompt before the beep.
_GREETING_KEYS: dict[str, tuple[str, str]] = {
    "1": ("unavailable", "vm-rec-unv"), "2": ("busy", "vm-rec-busy"),
    "3": ("name", "vm-rec-name"), "4": ("temporary", "vm-rec-temp"),
}
_STATES_TYPING = (MenuState.MAILBOX, MenuState.PIN, MenuState.NEW_PIN, MenuState.CONFIRM_PIN)


@dataclass
class MenuOptions:
    """Per-mailbox behaviour of the menu."""

    envelope: Envelope = Envelope.BOTH
    autoplay: bool = False            # play the first message without asking
    input_timeout: float = 5.0        # seconds of silence ending typed digits / a choice
    line_number: str = ""             # for refusing a new PIN made of it


def _say_count(count: int, kind: str) -> list[Media]:
    noun = "vm-message" if count == 1 else "vm-messages"
    if count == 0:
        return [("sound", "vm-no"), ("sound", kind), ("sound", "vm-messages")]
    return [("number", str(count)), ("sound", kind), ("sound", noun)]


def envelope_media(message: MessageInfo) -> list[Media]:
    """Time then caller of a message, with Asterisk's core sounds."""
    when = message.received_at
    items: list[Media] = [
        ("sound", "vm-received"), ("sound", f"digits/day-{(when.weekday() + 1) % 7}"),
        ("number", str(when.day)), ("sound", f"digits/mon-{when.month - 1}"),
        ("number", str(when.hour)), ("number", f"{when.minute}"),
    ]
    # Only digits reach the "digits:" media URI: a stored caller with a comma
    # would otherwise add media of its choice to the playback list.
    number = caller_number(message.caller).lstrip("+")
    if number:
        items += [("sound", "vm-from-phonenumber"), ("digits", number)]
    else:
        items.append(("sound", "vm-unknown-caller"))
    return items


@dataclass
class VoicemailMenu:
    """One retrieval call's menu; create, call ``start``, then feed events.

    ``mailbox`` is the line the caller calls from when it is a known line
    (only the PIN is asked), ``skip_pin`` logs that line in without a PIN.
    Every method returns the actions to carry out, in order.
    """

    mailbox: str | None = None
    skip_pin: bool = False
    options: MenuOptions = field(default_factory=MenuOptions)
    state: MenuState = MenuState.MAILBOX
    messages: list[MessageInfo] = field(default_factory=list)
    current: int = 0
    failures: int = 0
    _typed: str = ""
    _typed_mailbox: str | None = None
    _new_pin: str = ""
    _seq: int = 0
    _playing: int | None = None
    _deadline: float | None = None
    _reprompts: int = 0
    _after_play: Callable[[float], list[Action]] | None = None
    # Keys typed while the login is checked (type-ahead): played into the menu
    # once the login is accepted, dropped if it is refused.
    _ahead: str = ""

    # -- inputs ---------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The call is answered."""
        if self.mailbox is not None and self.skip_pin:
            self._go(MenuState.CHECKING)
            return [Login(self.mailbox, None)]
        if self.mailbox is not None:
            return self._ask(MenuState.PIN, [("sound", "vm-password")], now)
        return self._ask(MenuState.MAILBOX, [("sound", "vm-login")], now)

    def digit(self, key: str, now: float) -> list[Action]:
        """The caller pressed ``key`` (0-9, *, #); any other key (A-D) is ignored."""
        if len(key) != 1 or key not in DTMF_KEYS:
            return []
        if self.state is MenuState.CHECKING:
            # A caller who knows the menu types ahead while the PIN is checked.
            self._ahead = (self._ahead + key)[:MAX_TYPE_AHEAD]
            return []
        if self.state in (MenuState.DONE, MenuState.RECORDING):
            return []  # the goodbye or the recording comes first
        actions: list[Action] = []
        if self._playing is not None:
            actions.append(StopPlayback(self._playing))
            self._playing = None
            self._after_play = None
        self._reprompts = 0
        if self.state in _STATES_TYPING:
            return actions + self._type(key, now)
        return actions + _CHOICES[self.state](self, key, now)

    def playback_done(self, seq: int, now: float, failed: bool = False) -> list[Action]:
        """The playback ``seq`` ended by itself (``failed``: Asterisk could not play it)."""
        if seq != self._playing:
            return []  # a stopped or superseded prompt
        self._playing = None
        follow, self._after_play = self._after_play, None
        # A message that failed was not heard; any other step (the recording
        # after its prompt, the hang-up after the goodbye) goes on regardless,
        # or the call would wait for a prompt that never comes.
        if follow is not None and not (failed and follow == self._heard):
            return follow(now)
        self._deadline = now + self.options.input_timeout
        return []

    def logged_in(self, messages: Sequence[MessageInfo], line_number: str,
                  now: float) -> list[Action]:
        """The adapter accepted the login; ``messages`` of the mailbox, any order."""
        if self.state is not MenuState.CHECKING:
            raise MenuError(f"login answer in state {self.state.value}")
        ordered = sorted(messages, key=lambda m: (not m.new, not m.urgent, m.received_at))
        self.messages = [m for m in ordered if not m.deleted]
        self.options.line_number = line_number
        self.failures = 0
        actions = self._announce_counts(now)
        ahead, self._ahead = self._ahead, ""
        for key in ahead:
            actions += self.digit(key, now)
        return actions

    def login_failed(self, now: float) -> list[Action]:
        """Unknown mailbox, wrong PIN or locked: the caller hears the same either way."""
        if self.state is not MenuState.CHECKING:
            raise MenuError(f"login answer in state {self.state.value}")
        self._ahead = ""  # typed before "incorrect" was heard: not the next try
        self.failures += 1
        if self.failures >= MAX_LOGIN_ATTEMPTS:
            return self._goodbye([("sound", "vm-incorrect")], now)
        if self.mailbox is not None:
            return self._ask(MenuState.PIN, [("sound", "vm-incorrect"),
                                             ("sound", "vm-password")], now)
        return self._ask(MenuState.MAILBOX, [("sound", "vm-incorrect-mailbox")], now)

    def greeting_recorded(self, saved: bool, now: float) -> list[Action]:
        """The adapter ended a ``RecordGreeting``; ``saved``: it is the greeting now."""
        if self.state is not MenuState.RECORDING:
            raise MenuError(f"greeting recorded in state {self.state.value}")
        self._go(MenuState.OPTIONS)
        said = "vm-msgsaved" if saved else "vm-sorry"
        return self._play([("sound", said), *_OPTIONS_PROMPT])

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must be called, if no key comes first."""
        return self._deadline

    def handle_timer(self, now: float) -> list[Action]:
        """The caller said nothing for a while: take what was typed, or ask again."""
        if self._deadline is None or now < self._deadline:
            return []
        self._deadline = None
        if self.state in _STATES_TYPING and self._typed:
            return self._submit(now)
        self._reprompts += 1
        if self._reprompts > MAX_REPROMPTS:
            return self._goodbye([], now)
        return self._reprompt(now)

    # -- internals ------------------------------------------------------------

    def _play(self, media: Sequence[Media],
              then: Callable[[float], list[Action]] | None = None) -> list[Action]:
        self._seq += 1
        self._playing = self._seq
        self._after_play = then
        self._deadline = None
        return [Play(tuple(media), self._seq)]

    def _go(self, to: MenuState) -> None:
        self.state = MENU.move(self.state, to)

    def _ask(self, state: MenuState, prompt: Sequence[Media], now: float) -> list[Action]:
        self._go(state)
        self._typed = ""
        return self._play(prompt)

    def _goodbye(self, before: Sequence[Media], now: float) -> list[Action]:
        self._go(MenuState.DONE)
        return self._play([*before, ("sound", "vm-goodbye")], then=lambda _now: [Hangup()])

    def _type(self, key: str, now: float) -> list[Action]:
        if key in _KEYS_ENDING_INPUT:
            return self._submit(now)
        if key == "*":  # start over
            self._typed = ""
        else:
            self._typed += key
        self._deadline = now + self.options.input_timeout
        return []

    def _submit(self, now: float) -> list[Action]:
        typed, self._typed = self._typed, ""
        self._deadline = None
        if self.state is MenuState.MAILBOX:
            self._typed_mailbox = typed
            return self._ask(MenuState.PIN, [("sound", "vm-password")], now)
        if self.state is MenuState.PIN:
            self._go(MenuState.CHECKING)
            mailbox = self.mailbox if self.mailbox is not None else self._typed_mailbox
            return [Login(mailbox, typed)]
        if self.state is MenuState.NEW_PIN:
            try:
                policy.check_pin(typed, self.options.line_number or None)
            except InvalidLineInput:
                return self._ask(MenuState.NEW_PIN, [("sound", "vm-invalid-password"),
                                                     ("sound", "vm-newpassword")], now)
            self._new_pin = typed
            return self._ask(MenuState.CONFIRM_PIN, [("sound", "vm-reenterpassword")], now)
        if typed != self._new_pin:
            return self._ask(MenuState.NEW_PIN, [("sound", "vm-mismatch"),
                                                 ("sound", "vm-newpassword")], now)
        pin, self._new_pin = self._new_pin, ""
        self._go(MenuState.MAIN)
        return [ChangePin(pin), *self._play([("sound", "vm-passchanged"), *_MAIN_PROMPT])]

    def _reprompt(self, now: float) -> list[Action]:
        prompts: dict[MenuState, list[Media]] = {
            MenuState.MAILBOX: [("sound", "vm-login")],
            MenuState.PIN: [("sound", "vm-password")],
            MenuState.NEW_PIN: [("sound", "vm-newpassword")],
            MenuState.CONFIRM_PIN: [("sound", "vm-reenterpassword")],
            MenuState.MAIN: list(_MAIN_PROMPT),
            MenuState.MESSAGE: list(_MESSAGE_PROMPT),
            MenuState.OPTIONS: list(_OPTIONS_PROMPT),
        }
        prompt = prompts.get(self.state)
        if prompt is None:
            return []
        return self._play(prompt)

    def _announce_counts(self, now: float) -> list[Action]:
        self._go(MenuState.MAIN)
        new = sum(m.new for m in self.messages)
        old = len(self.messages) - new
        media = [("sound", "vm-youhave"), *_say_count(new, "vm-INBOX"), ("sound", "vm-and"),
                 *_say_count(old, "vm-Old")]
        if self.options.autoplay and self.messages:
            return self._play(media, then=lambda t: self._open(0, t))
        return self._play([*media, *_MAIN_PROMPT])

    # -- choices --------------------------------------------------------------

    def _main(self, key: str, now: float) -> list[Action]:
        if key == "1":
            if not self.messages:
                return self._play([("sound", "vm-no"), ("sound", "vm-messages"),
                                   *_MAIN_PROMPT])
            return self._open(0, now)
        if key == "0":
            self._go(MenuState.OPTIONS)
            return self._play(_OPTIONS_PROMPT)
        if key == "#":
            return self._goodbye([], now)
        return self._play(_MAIN_PROMPT)

    def _options(self, key: str, now: float) -> list[Action]:
        if key == "5":
            return self._ask(MenuState.NEW_PIN, [("sound", "vm-newpassword")], now)
        if key in _GREETING_KEYS:
            kind, prompt = _GREETING_KEYS[key]
            self._go(MenuState.RECORDING)
            return self._play([("sound", prompt)], then=lambda _now: [RecordGreeting(kind)])
        if key == "*":
            self._go(MenuState.MAIN)
            return self._play(_MAIN_PROMPT)
        return self._play(_OPTIONS_PROMPT)

    def _open(self, index: int, now: float) -> list[Action]:
        """Play message ``index`` as the envelope option says, then its options."""
        self._go(MenuState.MESSAGE)
        self.current = index
        message = self.messages[index]
        first: list[Media] = [("sound", "vm-first" if index == 0 else "vm-message")]
        if index:
            first.append(("number", str(index + 1)))
        if message.urgent:
            first.append(("sound", "vm-Urgent"))
        envelope = self.options.envelope
        if envelope is Envelope.ENVELOPE:
            return self._play([*first, *envelope_media(message), *_MESSAGE_PROMPT])
        body = envelope_media(message) if envelope is Envelope.BOTH else []
        return self._play([*first, *body, ("message", str(message.id))],
                          then=self._heard)

    def _heard(self, now: float) -> list[Action]:
        """The whole message was played: it moves to Old (heard)."""
        message = self.messages[self.current]
        actions: list[Action] = []
        if message.new:
            self.messages[self.current] = replace(message, new=False)
            actions.append(MoveMessage(message.id, "old"))
        return actions + self._play(_MESSAGE_PROMPT)

    def _step(self, delta: int, now: float) -> list[Action]:
        target = self.current + delta
        if 0 <= target < len(self.messages):
            return self._open(target, now)
        edge = "vm-nomore" if delta > 0 else "vm-first"
        self._go(MenuState.MAIN)
        return self._play([("sound", edge), *_MAIN_PROMPT])

    def _message(self, key: str, now: float) -> list[Action]:
        message = self.messages[self.current]
        if key == "5":
            self._go(MenuState.MESSAGE)
            return self._play([("message", str(message.id))], then=self._heard)
        if key == "4":
            return self._step(-1, now)
        if key == "6":
            return self._step(1, now)
        if key == "3":
            return self._play([*envelope_media(message), *_MESSAGE_PROMPT])
        if key in "79":
            folder = "deleted" if key == "7" else "old"
            del self.messages[self.current]
            said = "vm-deleted" if key == "7" else "vm-msgsaved"
            moved: list[Action] = [MoveMessage(message.id, folder)]
            if self.current < len(self.messages):
                return moved + self._play([("sound", said)],
                                          then=lambda t: self._open(self.current, t))
            self._go(MenuState.MAIN)
            return moved + self._play([("sound", said), ("sound", "vm-nomore"),
                                       *_MAIN_PROMPT])
        if key == "8":
            self.messages[self.current] = replace(message, new=True)
            return [MoveMessage(message.id, "new"), *self._play(_MESSAGE_PROMPT)]
        if key == "#":
            return self._goodbye([], now)
        if key == "0":
            self._go(MenuState.OPTIONS)
            return self._play(_OPTIONS_PROMPT)
        return self._play(_MESSAGE_PROMPT)


_MAIN_PROMPT: tuple[Media, ...] = (("sound", "vm-onefor"), ("sound", "vm-INBOX"),
                                   ("sound", "vm-messages"), ("sound", "vm-opts"))
_MESSAGE_PROMPT: tuple[Media, ...] = (
    ("sound", "vm-prev"), ("sound", "vm-repeat"), ("sound", "vm-next"),
    ("sound", "vm-delete"), ("sound", "vm-savemessage"), ("sound", "vm-helpexit"))
_OPTIONS_PROMPT: tuple[Media, ...] = (("sound", "vm-options"),)

_CHOICES: dict[MenuState, Callable[[VoicemailMenu, str, float], list[Action]]] = {
    MenuState.MAIN: VoicemailMenu._main,
    MenuState.MESSAGE: VoicemailMenu._message,
    MenuState.OPTIONS: VoicemailMenu._options,
}
