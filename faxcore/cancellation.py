"""Cancellation that a library turned into its own error still stops the task.

aiomqtt raises ``MqttError`` when the task is cancelled while it connects
(it wraps the ``CancelledError``). A reconnect loop that catches
``MqttError`` then swallows the stop and runs on: ``faxcore serve`` and tests
hang at shutdown. Every loop that catches a library's errors calls
``stop_if_cancelled`` first.
"""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task is being cancelled."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
