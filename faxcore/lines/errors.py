"""Errors of the lines package; each also derives from the matching generic error."""

from faxcore.errors import ConflictError, FaxcoreError, NotFoundError, ValidationError


class LineError(FaxcoreError):
    """Base of line errors."""


class InvalidLineInput(LineError, ValidationError):
    """A number, password, PIN or setting breaks the policy (L2)."""


class LineExists(LineError, ConflictError):
    """A line with this number (or SIP username) is already provisioned."""


class LineNotFound(LineError, NotFoundError):
    """No line has this number."""
