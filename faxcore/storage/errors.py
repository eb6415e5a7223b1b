"""Errors of the storage package."""

from faxcore.errors import FaxcoreError


class StorageError(FaxcoreError):
    """Base of storage errors."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or opened."""


class MigrationError(StorageError):
    """The schema cannot be brought to the wanted revision."""


class UnsafeFolder(StorageError):
    """A folder faxcore writes to is writable by every user."""
