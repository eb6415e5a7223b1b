"""Errors of fax reception."""

from faxcore.errors import FaxcoreError, ValidationError


class ReceptionError(FaxcoreError):
    """Base of fax reception errors."""


class FaxNotFound(ReceptionError):
    """No received fax has this id."""


class InvalidFilter(ReceptionError, ValidationError):
    """A filter entry is not a number or a prefix ending in ``*``."""


class InvalidTransition(ReceptionError):
    """A received fax was asked to move where its state table does not lead: a bug."""
