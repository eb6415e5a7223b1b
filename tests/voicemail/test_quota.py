"""Mailbox limits: full at either limit, one warning per crossing (V7)."""

from __future__ import annotations

from faxcore.config import VoicemailConfig
from faxcore.voicemail.quota import Quota, Usage

QUOTA = Quota(max_messages=10, max_bytes=1000, warn_percent=80)


def test_full_at_the_message_count_or_the_byte_limit() -> None:
    assert not QUOTA.is_full(Usage(9, 999))
    assert QUOTA.is_full(Usage(10, 0))
    assert QUOTA.is_full(Usage(1, 1000))


def test_warning_only_when_the_level_is_crossed() -> None:
    assert QUOTA.warns(Usage(7, 100), Usage(8, 150))
    assert not QUOTA.warns(Usage(8, 150), Usage(9, 200))  # already past it
    assert not QUOTA.warns(Usage(5, 100), Usage(6, 150))  # not there yet
    assert QUOTA.warns(Usage(2, 700), Usage(3, 850))  # bytes cross first


def test_configured_limits_in_mib() -> None:
    quota = Quota.of(VoicemailConfig(max_messages=100, max_storage_mb=2, nearly_full_percent=90))
    assert quota == Quota(100, 2 * 1024 * 1024, 90)
    assert QUOTA.event_data(Usage(8, 150)) == {"messages": 8, "max_messages": 10,
                                               "bytes": 150, "max_bytes": 1000}
