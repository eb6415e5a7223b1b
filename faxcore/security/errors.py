"""Errors of the security package."""

from faxcore.errors import FaxcoreError


class SecurityError(FaxcoreError):
    """Base of security errors."""


class InvalidHashError(SecurityError):
    """A stored hash is not in a format faxcore wrote (corrupted or foreign data)."""
