"""Errors of the send package (S1-S7)."""

from faxcore.errors import ConflictError, FaxcoreError, NotFoundError, ValidationError


class SendError(FaxcoreError):
    """Base of send errors."""


class SendRefused(SendError, ValidationError):
    """The send is refused before anything is queued (line, number or document)."""


class JobNotFound(SendError, NotFoundError):
    """No send job has this id."""


class JobFinished(SendError, ConflictError):
    """The job is already sent, failed or cancelled."""


class LeaseLost(SendError, ConflictError):
    """The worker's claim on a job ran out and was taken over; its result is dropped."""


class InvalidTransition(SendError):
    """A job or attempt was asked to move where its state table does not lead: a bug."""
