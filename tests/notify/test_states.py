"""The notification state table: pending ends sent or failed, once."""

from __future__ import annotations

import pytest

from faxcore.config import FaxcoreConfig
from faxcore.events import EventKind
from faxcore.notify.notifier import Notifier
from faxcore.notify.states import NOTIFICATIONS, InvalidTransition, NotificationState
from faxcore.storage.db import Database
from tests.notify.conftest import SmtpServer, notify_config
from tests.notify.test_notifier import emit_one, states


def test_only_a_pending_notification_moves_and_it_ends_sent_or_failed() -> None:
    assert NOTIFICATIONS.sources(NotificationState.SENT) == {NotificationState.PENDING}
    assert NOTIFICATIONS.sources(NotificationState.FAILED) == {NotificationState.PENDING}
    with pytest.raises(InvalidTransition):
        NOTIFICATIONS.sources(NotificationState.PENDING)


async def test_a_sent_notification_cannot_be_failed_afterwards(
        database: Database, line: str, smtp_server: SmtpServer, config: FaxcoreConfig) -> None:
    config = notify_config(config, smtp_server)
    notifier = Notifier(database, config.smtp, config.notify)
    await emit_one(database, EventKind.FAX_FAILED, {"reason": "no carrier"})
    await notifier.consume_outbox()
    assert await notifier.deliver_due() == 2
    sent = await states(database)
    assert [n.state for n in sent] == [NotificationState.SENT] * 2
    with pytest.raises(InvalidTransition, match="cannot become failed"):
        await notifier._finish(sent[0].id, NotificationState.FAILED, "late error")
    assert [n.state for n in await states(database)] == [NotificationState.SENT] * 2
