"""Errors of the e-mail notifier and notification preferences."""

from faxcore.errors import ConflictError, FaxcoreError, NotFoundError, ValidationError


class NotifyError(FaxcoreError):
    """Base of the notify package's errors."""


class InvalidAddress(NotifyError, ValidationError):
    """An e-mail address or a preference kind is not acceptable."""


class TooManyAddresses(NotifyError, ConflictError):
    """A line already has its 5 notification addresses."""


class AddressNotFound(NotifyError, NotFoundError):
    """The address is not notified for this line."""


class DeliveryFailed(NotifyError):
    """The SMTP server could not be reached or did not accept the message."""


class ForgedEvent(NotifyError):
    """An event from the bus names a fax, send job or message its line does not own."""
