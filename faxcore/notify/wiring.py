"""Wiring: the e-mail notifier's loops in ``faxcore serve``."""

from __future__ import annotations

import logging

from faxcore.calls.app import StasisApp
from faxcore.notify.notifier import AfterForward, Notifier
from faxcore.runtime.feature import Contribution, ServeParts
from faxcore.runtime.supervisor import Loop, Supervisor

log = logging.getLogger(__name__)


def contribution(parts: ServeParts, after_forward: AfterForward | None = None) -> Contribution:
    """Mail from the outbox, when ``smtp.url`` is set and ``notify.in_process`` is on.

    ``after_forward`` runs once an event's mails are all sent (the answering
    machine purges a forwarded message with it, V8).
    """
    config = parts.config
    if not config.smtp.url or not config.notify.in_process:
        log.info("e-mail notifier not run by serve (smtp.url empty or notify.in_process off)")
        return Contribution("notify")
    notifier = Notifier(parts.db, config.smtp, config.notify, after_forward=after_forward)

    def loops(app: StasisApp, supervisor: Supervisor) -> list[Loop]:
        return [notifier.delivery_loop(), notifier.outbox_loop()]

    return Contribution("notify", loops=loops)
