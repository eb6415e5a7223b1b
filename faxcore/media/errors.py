"""Errors of the media package."""

from faxcore.errors import FaxcoreError


class MediaError(FaxcoreError):
    """Base of media errors."""


class AudioSocketProtocolError(MediaError):
    """The peer sent bytes that are not valid AudioSocket."""
