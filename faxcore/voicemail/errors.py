"""Errors of the voicemail package."""

from faxcore.errors import FaxcoreError, NotFoundError, ValidationError


class VoicemailError(FaxcoreError):
    """Base of voicemail errors."""


class MessageNotFound(VoicemailError, NotFoundError):
    """No voicemail message has this id."""


class InvalidGreeting(VoicemailError, ValidationError):
    """A greeting kind or audio file is not usable."""


class InvalidOption(VoicemailError, ValidationError):
    """A mailbox option has a value faxcore does not know."""


class MenuError(VoicemailError):
    """The phone menu was fed an event it cannot take (an adapter bug)."""


class InvalidAudio(VoicemailError, ValidationError):
    """A recording is not a WAV file faxcore can read."""
