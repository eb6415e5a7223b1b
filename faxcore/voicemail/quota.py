"""Mailbox limits (V7) as pure rules: when a mailbox is full, when it is nearly full.

A mailbox holds at most ``max_messages`` kept messages (Deleted does not
count) and ``max_bytes`` of their audio. Reaching either limit means "mailbox
full": no recording. Crossing ``warn_percent`` of either raises one
``voicemail.mailbox_nearly_full`` event, once per crossing, not per message.
"""

from __future__ import annotations

from dataclasses import dataclass

from faxcore.config import VoicemailConfig


@dataclass(frozen=True)
class Usage:
    """What a mailbox's kept messages use."""

    messages: int
    bytes: int

    def plus(self, size: int) -> Usage:
        """The usage once one more message of ``size`` bytes is kept."""
        return Usage(self.messages + 1, self.bytes + size)


@dataclass(frozen=True)
class Quota:
    """The limits of every mailbox."""

    max_messages: int
    max_bytes: int
    warn_percent: int

    @classmethod
    def of(cls, config: VoicemailConfig) -> Quota:
        """The limits the configuration sets."""
        return cls(config.max_messages, config.max_storage_mb * 1024 * 1024,
                   config.nearly_full_percent)

    def is_full(self, usage: Usage) -> bool:
        """No room for another message."""
        return usage.messages >= self.max_messages or usage.bytes >= self.max_bytes

    def is_nearly_full(self, usage: Usage) -> bool:
        """At or past the warning level of either limit."""
        return (usage.messages * 100 >= self.max_messages * self.warn_percent
                or usage.bytes * 100 >= self.max_bytes * self.warn_percent)

    def warns(self, before: Usage, after: Usage) -> bool:
        """Going from ``before`` to ``after`` crosses the warning level."""
        return self.is_nearly_full(after) and not self.is_nearly_full(before)

    def event_data(self, usage: Usage) -> dict[str, int]:
        """The ``voicemail.mailbox_nearly_full`` payload."""
        return {"messages": usage.messages, "max_messages": self.max_messages,
                "bytes": usage.bytes, "max_bytes": self.max_bytes}
