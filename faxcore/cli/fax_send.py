"""CLI: ``faxcore fax send|jobs|cancel`` (sending faxes, S1-S7), in the shared ``fax`` group."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_with_database, state
from faxcore.cli.fax import fax_group
from faxcore.documents import Quality
from faxcore.send import JobView, SendRefused, SendRequest
from faxcore.send import wiring as send_wiring


def _parse_at(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.strptime(at, "%Y-%m-%d %H:%M").astimezone()
    except ValueError as exc:
        raise SendRefused(f"--at {at!r}: give the local date and time as YYYY-MM-DD HH:MM") from exc


def _job_text(job: JobView) -> str:
    """The job on one line, then one line per attempt: when, outcome, how it went, why."""
    when = job.next_attempt_at.astimezone().strftime("%Y-%m-%d %H:%M")
    reason = f"  {job.reason}" if job.reason else ""
    fallbacks = f" (+{job.fallbacks} on another route)" if job.fallbacks else ""
    lines = [f"{job.id:>6}  {job.line} -> {job.to:<16} {job.state:<9} {job.pages:>3}p "
             f"attempts {job.attempts - job.fallbacks}/{job.max_attempts}{fallbacks}  "
             f"next {when}{reason}"]
    for attempt in job.history:
        started = attempt.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        ecm = {True: "ECM", False: "no ECM", None: ""}[attempt.ecm]
        rate = f"{attempt.bit_rate} bit/s" if attempt.bit_rate else ""
        via = ", ".join(part for part in (attempt.transport, rate, ecm, attempt.resolution)
                        if part)
        why = f"  {attempt.reason}" if attempt.reason else ""
        lines.append(f"        #{attempt.number} {started} {attempt.outcome:<11} "
                     f"{attempt.pages}p {via}{why}".rstrip())
    return "\n".join(lines)


@fax_group.command("send")
@click.option("--from", "line", required=True, help="The sending line (E.164).")
@click.option("--to", "numbers", multiple=True, required=True,
              help="A recipient in international format; repeat for several.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quality", type=click.Choice([q.value for q in Quality]), default=None,
              help="Resolution (S2); default: the line's send_quality.")
@click.option("--at", default=None, help='Send not before this local time, "YYYY-MM-DD HH:MM".')
@json_option
@click.pass_context
@handles_errors
def send_command(ctx: click.Context, line: str, numbers: tuple[str, ...], files: tuple[Path, ...],
                 quality: str | None, at: str | None, as_json: bool) -> None:
    """Queue FILE... (in order) to every --to number; refused at once if anything is wrong."""
    request = SendRequest(line=line, to=numbers, files=files,
                          quality=Quality(quality) if quality else None,
                          not_before=_parse_at(at))
    config = state(ctx).config
    jobs = run_with_database(
        config, lambda db: send_wiring.service(config, db).submit(request))
    emit({"jobs": jobs}, "\n".join(f"queued {_job_text(j)}" for j in jobs), as_json)


@fax_group.command("jobs")
@click.option("--line", default=None, help="Only the jobs of this line (E.164).")
@json_option
@click.pass_context
@handles_errors
def jobs_command(ctx: click.Context, line: str | None, as_json: bool) -> None:
    """The latest send jobs, newest first."""
    config = state(ctx).config
    jobs = run_with_database(config, lambda db: send_wiring.queue(config, db).jobs(line))
    emit({"jobs": jobs}, "\n".join(_job_text(j) for j in jobs) or "no send jobs", as_json)


@fax_group.command("cancel")
@click.argument("job_id", type=int)
@json_option
@click.pass_context
@handles_errors
def cancel_command(ctx: click.Context, job_id: int, as_json: bool) -> None:
    """Cancel a queued (or sending) job."""
    config = state(ctx).config
    job = run_with_database(config, lambda db: send_wiring.queue(config, db).cancel(job_id))
    emit({"job": job}, f"cancelled {_job_text(job)}", as_json)


# The commands join ``faxcore.cli.fax.fax_group``, registered by that module.
commands: list[click.Command] = []
