"""Sending faxes (S1-S7): submit, a durable queue with leases, retries with reasons.

``SendService.submit`` checks the line, numbers and documents, converts the
documents once and queues one job per number. Workers ``SendQueue.claim`` a
job, dial and send, and ``finish`` it; the ``RetryPolicy`` decides between
another attempt and a final failure, using the Q.850 / T.30 table of
``faxcore.send.failures`` (``docs/failures.md``).
"""

from faxcore.send.errors import JobFinished, JobNotFound, LeaseLost, SendError, SendRefused
from faxcore.send.failures import Failure, Local, Source
from faxcore.send.policy import Decision, RetryPolicy
from faxcore.send.queue import AttemptResult, AttemptView, Claim, JobView, SendQueue
from faxcore.send.service import SendRequest, SendService

__all__ = [
    "AttemptResult", "AttemptView", "Claim", "Decision", "Failure", "JobFinished", "JobNotFound",
    "JobView", "LeaseLost", "Local", "RetryPolicy", "SendError", "SendQueue", "SendRefused",
    "SendRequest", "SendService", "Source",
]
