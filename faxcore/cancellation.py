"""Cancellation that a library swallowed or turned into its own error still stops the task.

Two ways a library loses a stop that was asked for:

- aiomqtt raises ``MqttError`` when the task is cancelled while it connects
  (it wraps the ``CancelledError``): a reconnect loop that catches
  ``MqttError`` would run on.
- Python 3.11's ``asyncio.wait_for``, which aiomqtt (publish, subscribe) and
  aiosmtplib (every SMTP reply) await, returns the result instead of raising
  when the cancel arrives in the same instant as that result: the caller
  carries on as if never cancelled (CPython gh-86296, fixed in 3.12).

Either way ``faxcore serve``, or a test's teardown, hangs on a task that
never ends. ``Task.cancelling()`` still counts the request, so every loop
that catches a library's errors, and every loop that calls a library after
each pass, calls ``stop_if_cancelled`` there.
"""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task is being cancelled."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
