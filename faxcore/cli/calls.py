"""CLI: ``faxcore calls list`` (the call log, P1)."""

from __future__ import annotations

import click

from faxcore.calls.calllog import CallLog, CallRecord
from faxcore.cli.common import emit, handles_errors, json_option, run_with_database, state


@click.group("calls")
def calls_group() -> None:
    """The call log: every call that reached faxcore."""


def _record_text(r: CallRecord) -> str:
    when = r.started_at.strftime("%Y-%m-%d %H:%M:%S")
    seconds = f"{(r.ended_at - r.started_at).total_seconds():.0f}s" if r.ended_at else "ongoing"
    cause = f" cause {r.cause}" if r.cause is not None else ""
    detail = f" ({r.detail})" if r.detail else ""
    return (f"{when}  {r.direction:<3} {r.caller or 'anonymous':<16} -> {r.called:<16} "
            f"{r.disposition.value:<22} {seconds:>7}{cause}{detail}")


@calls_group.command("list")
@click.option("--line", default=None, help="Only the calls of this line (E.164).")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, line: str | None, limit: int, as_json: bool) -> None:
    """The latest calls, newest first."""
    records = run_with_database(
        state(ctx).config, lambda db: CallLog(db).recent(line_number=line, limit=limit))
    text = "\n".join(_record_text(r) for r in records) if records else "no calls"
    emit({"calls": records}, text, as_json)


commands: list[click.Command] = [calls_group]
