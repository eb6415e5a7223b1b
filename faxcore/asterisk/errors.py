"""Errors of the Asterisk configuration package."""

from faxcore.errors import FaxcoreError


class AsteriskConfigError(FaxcoreError):
    """Rendering or writing the Asterisk configuration failed."""


class TemplateError(AsteriskConfigError):
    """A template in asterisk-conf/ or dialplan/ is missing or broken."""
