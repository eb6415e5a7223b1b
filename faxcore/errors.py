"""Root of faxcore's exception tree.

Every package defines its own subclasses here or in its own ``errors`` module;
boundaries (CLI, HTTP, ARI) translate them with ``raise ... from exc``.
"""


class FaxcoreError(Exception):
    """Base of every error faxcore raises on purpose."""


class ConfigError(FaxcoreError):
    """The configuration file or an environment override is invalid."""


class ValidationError(FaxcoreError):
    """User input breaks a rule (password policy, number format, ...)."""


class NotFoundError(FaxcoreError):
    """A named object (line, fax, message) does not exist."""


class ConflictError(FaxcoreError):
    """The object already exists or its state forbids the operation."""
