"""Fixtures shared with the notifier's tests: the real SMTP server on loopback."""

from tests.notify.conftest import smtp_server

__all__ = ["smtp_server"]
