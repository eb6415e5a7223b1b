"""Errors of the call application."""

from faxcore.errors import FaxcoreError


class CallError(FaxcoreError):
    """A call could not be handled."""
