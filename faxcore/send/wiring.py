"""Builds the send service and queue from the configuration."""

from __future__ import annotations

import functools
import os
import socket
import uuid
from pathlib import Path

from faxcore.calls.app import StasisApp
from faxcore.config import FaxcoreConfig
from faxcore.documents import DocumentLimits
from faxcore.runtime.feature import Contribution, ServeParts
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.send.dial import AriTransmitter
from faxcore.send.from_machine import FaxMachineOutbound
from faxcore.send.policy import RetryPolicy
from faxcore.send.queue import SendQueue
from faxcore.send.service import SendService
from faxcore.send.worker import SendWorker, Transmit
from faxcore.storage.db import Database


def spool_dir(config: FaxcoreConfig) -> Path:
    """Where converted documents wait: ``send.spool_dir`` or ``data_dir/outgoing``."""
    return Path(config.send.spool_dir) if config.send.spool_dir else config.data_dir / "outgoing"


def policy(config: FaxcoreConfig) -> RetryPolicy:
    """The configured ``RetryPolicy``."""
    send = config.send
    return RetryPolicy(send.max_attempts, send.retry_initial, send.retry_max)


def service(config: FaxcoreConfig, db: Database) -> SendService:
    """A ``SendService`` on ``db``."""
    return SendService(db, spool_dir(config), config.send.max_attempts,
                       has_trunk=bool(config.trunk_dial),
                       limits=DocumentLimits.of(config.documents))


def queue(config: FaxcoreConfig, db: Database) -> SendQueue:
    """A ``SendQueue`` on ``db`` with the configured limits."""
    send = config.send
    return SendQueue(db, policy(config), lease=send.lease, max_concurrent=send.max_concurrent,
                     max_per_line=send.max_per_line)


def worker_name() -> str:
    """A lease owner unique across hosts and restarts: host, pid, random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def send_loops(config: FaxcoreConfig, db: Database, transmit: Transmit,
               supervisor: Supervisor) -> list[Loop]:
    """One send worker; its claims run under ``supervisor``'s policy too."""
    worker = SendWorker(queue(config, db), transmit, worker_name(),
                        slots=config.send.max_concurrent, poll_interval=config.send.poll_interval)
    return [Loop("send-worker", functools.partial(worker.run, supervisor))]


def contribution(parts: ServeParts) -> Contribution:
    """One send worker, dialling through this process's Stasis app; the lines' fax
    machines fax out through the queue."""

    def loops(app: StasisApp, supervisor: Supervisor) -> list[Loop]:
        transmit = AriTransmitter(parts.config, parts.db, parts.ari, app, parts.media)
        return send_loops(parts.config, parts.db, transmit, supervisor)

    from_machines = FaxMachineOutbound(parts.config, service(parts.config, parts.db),
                                       parts.media, spool_dir(parts.config) / "from-machines")
    return Contribution("send", loops=loops, outbound=from_machines)
