"""Errors of the event outbox and its MQTT relay."""

from faxcore.errors import FaxcoreError, ValidationError


class EventError(FaxcoreError):
    """Base of the events package's errors."""


class InvalidEvent(EventError, ValidationError):
    """An event's kind is unknown or its data misses a field or is not JSON."""


class BusUnavailable(EventError):
    """The MQTT broker cannot be reached or refused us."""
