"""CLI: ``faxcore notify add|remove|list|queue`` (N3 addresses) and ``faxcore notifier``."""

from __future__ import annotations

import click

from faxcore.cli.common import (
    emit,
    handles_errors,
    json_option,
    run_async,
    run_with_database,
    state,
)
from faxcore.lines.policy import normalize_number
from faxcore.notify.addresses import AddressView, NotifyService
from faxcore.notify.notifier import NotificationView, recent_notifications
from faxcore.notify.prefs import Preference
from faxcore.notify.states import NotificationState
from faxcore.runtime.notifier import run_notifier_until_signalled

_KINDS_HELP = ("Comma-separated: " + ", ".join(p.value for p in Preference)
               + ", or all (default).")


@click.group("notify")
def notify_group() -> None:
    """E-mail addresses notified for a line (at most 5) and what they hear about."""


def _address_text(view: AddressView) -> str:
    return f"{view.address:<40} {','.join(view.kinds)}"


@notify_group.command("add")
@click.option("--line", required=True, help="The line (E.164).")
@click.argument("address")
@click.option("--kinds", default=None, help=_KINDS_HELP)
@json_option
@click.pass_context
@handles_errors
def add_command(ctx: click.Context, line: str, address: str, kinds: str | None,
                as_json: bool) -> None:
    """Notify ADDRESS for the line (or change what it hears about)."""
    view = run_with_database(state(ctx).config,
                             lambda db: NotifyService(db).add(line, address, kinds))
    emit({"address": view}, f"line {view.line} notifies {_address_text(view)}", as_json)


@notify_group.command("remove")
@click.option("--line", required=True, help="The line (E.164).")
@click.argument("address")
@json_option
@click.pass_context
@handles_errors
def remove_command(ctx: click.Context, line: str, address: str, as_json: bool) -> None:
    """Stop notifying ADDRESS for the line."""
    view = run_with_database(state(ctx).config,
                             lambda db: NotifyService(db).remove(line, address))
    emit({"address": view}, f"line {view.line} no longer notifies {view.address}", as_json)


@notify_group.command("list")
@click.option("--line", required=True, help="The line (E.164).")
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, line: str, as_json: bool) -> None:
    """The line's notified addresses and their kinds."""
    views = run_with_database(state(ctx).config, lambda db: NotifyService(db).list(line))
    text = "\n".join(_address_text(v) for v in views) if views else "no notification address"
    emit({"addresses": views}, text, as_json)


def _queue_text(n: NotificationView) -> str:
    when = n.created_at.strftime("%Y-%m-%d %H:%M:%S")
    extra = (f" retry {n.next_attempt_at:%H:%M:%S}"
             if n.state == NotificationState.PENDING and n.attempts else "")
    error = f"  {n.last_error}" if n.last_error else ""
    return (f"{when}  {n.line:<16} {n.kind:<30} {n.address:<32} {n.state:<8} "
            f"x{n.attempts}{extra}{error}")


@notify_group.command("queue")
@click.option("--line", default=None, help="Only this line's e-mails (E.164).")
@click.option("--state", "only", type=click.Choice([s.value for s in NotificationState]),
              default=None, help="Only e-mails in this state.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@click.pass_context
@handles_errors
def queue_command(ctx: click.Context, line: str | None, only: str | None, limit: int,
                  as_json: bool) -> None:
    """Notification e-mails, newest first: state, attempts, last error."""
    number = normalize_number(line) if line else None
    views = run_with_database(
        state(ctx).config, lambda db: recent_notifications(db, number, only, limit))
    text = "\n".join(_queue_text(v) for v in views) if views else "no notification"
    emit({"notifications": views}, text, as_json)


@click.command("notifier")
@click.pass_context
@handles_errors
def notifier_command(ctx: click.Context) -> None:
    """Send notification e-mails for events read from MQTT (or the outbox), until stopped."""
    run_async(run_notifier_until_signalled(state(ctx).config))


commands: list[click.Command] = [notify_group, notifier_command]
