"""Errors of the fax session package."""

from faxcore.errors import FaxcoreError, ValidationError


class FaxError(FaxcoreError):
    """Base of fax session errors."""


class FaxOptionsError(FaxError, ValidationError):
    """A :class:`~faxcore.fax.options.FaxSessionOptions` value is not usable."""


class FaxFileError(FaxError):
    """The TIFF to send is missing/unreadable, or the receive path is unusable."""


class FaxStateError(FaxError):
    """A method was called that the session's transport or state does not allow."""
