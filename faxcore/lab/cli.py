"""CLI: ``faxcore lab up|down|status`` and ``faxcore lab ata ...`` (the self-test lab)."""

from __future__ import annotations

from pathlib import Path

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_async, state
from faxcore.lab.ata import ANSWER_MODES, FAX_MODES, Ata, CallOutcome
from faxcore.lab.lab import Lab, LabStatus


def _status_text(s: LabStatus) -> str:
    ata = "not running"
    if s.ata_running:
        ata = f"running, line {s.ata_line or '-'}, " + (
            "registered" if s.ata_registered else "not registered")
    pbx = "not running"
    if s.pbx_running:
        pbx = f"running (pid {s.pbx_pid}, SIP {s.pbx_sip_port}, ARI {s.ari_port})"
    return "\n".join([
        f"chroot: {s.chroot} ({'cached' if s.chroot_cached else 'not built'})",
        f"pbx: {pbx}",
        f"ata: {ata}",
        f"lines: {', '.join(s.lines) or '-'}",
    ])


def _outcome_text(o: CallOutcome) -> str:
    parts = [f"call {o.id} to {o.to}: {o.reason}"]
    if o.hangup_cause is not None:
        parts.append(f"hangup cause {o.hangup_cause}")
    if o.duration is not None:
        parts.append(f"duration {o.duration} s")
    parts += [f"{k}={v}" for k, v in sorted(o.fax.items())]
    if o.recording:
        parts.append(f"recorded {o.recording}")
    return ", ".join(parts)


@click.group("lab")
def lab_group() -> None:
    """The self-test lab: a PBX Asterisk and an ATA Asterisk in a Debian sid chroot."""


@lab_group.command("up")
@click.option("--line", "line", default=None, help="Register the ATA as this line (E.164).")
@json_option
@click.pass_context
@handles_errors
def up(ctx: click.Context, line: str | None, as_json: bool) -> None:
    """Start the lab (idempotent); build the chroot first if it is not cached."""
    result = run_async(Lab(state(ctx).config).up(line))
    emit(result, _status_text(result), as_json)


@lab_group.command("down")
@json_option
@click.pass_context
@handles_errors
def down(ctx: click.Context, as_json: bool) -> None:
    """Stop both Asterisk instances and unmount everything the lab mounted."""
    done = run_async(Lab(state(ctx).config).down())
    emit({"done": done}, "\n".join(done) or "lab already down", as_json)


@lab_group.command("status")
@json_option
@click.pass_context
@handles_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Chroot cached? Instances running? ATA registered? Lines known to the PBX."""
    result = run_async(Lab(state(ctx).config).status())
    emit(result, _status_text(result), as_json)


@lab_group.group("ata")
def ata_group() -> None:
    """Act as the subscriber's ATA (fax machine or phone behind it)."""


@ata_group.command("send-fax")
@click.option("--to", "to", required=True, help="Number to fax (E.164).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(FAX_MODES), default="t38", show_default=True)
@click.option("--station-id", default="", help="Transmitting station id (TSI).")
@click.option("--hangup-after-page", type=int, default=None,
              help="Hang up once this many pages were sent.")
@click.option("--timeout", type=float, default=600.0, show_default=True)
@json_option
@click.pass_context
@handles_errors
def send_fax(ctx: click.Context, to: str, file: Path, mode: str, station_id: str,
             hangup_after_page: int | None, timeout: float, as_json: bool) -> None:
    """Fax FILE from the ATA through the PBX and print the outcome (FAXSTATUS, ...)."""
    ata = Ata(state(ctx).config)
    outcome = run_async(ata.send_fax(to, file, mode, station_id, hangup_after_page, timeout))
    emit(outcome, _outcome_text(outcome), as_json)
    if not outcome.fax_ok:
        ctx.exit(2)


@ata_group.command("receive-fax")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder where received faxes (TIFF + .vars outcome) land.")
@click.option("--mode", type=click.Choice(FAX_MODES), default="t38", show_default=True)
@click.option("--answer", type=click.Choice(ANSWER_MODES), default="on", show_default=True)
@json_option
@click.pass_context
@handles_errors
def receive_fax(ctx: click.Context, out: Path, mode: str, answer: str, as_json: bool) -> None:
    """Set how the ATA treats incoming calls from now on."""
    result = run_async(Ata(state(ctx).config).receive_fax(out, mode, answer))
    emit(result, f"ATA answers incoming calls: {answer} ({mode}), faxes into {out}", as_json)


@ata_group.command("call")
@click.option("--to", "to", required=True, help="Number to call.")
@click.option("--dtmf", default="", help="Digits to send once answered (w: half-second pause).")
@click.option("--play", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path),
              help="Record what the ATA hears into this WAV file.")
@click.option("--seconds", type=int, default=10, show_default=True,
              help="Stay this long on the call after answer (and DTMF/playback).")
@click.option("--anonymous", is_flag=True, help="Withhold the caller id.")
@click.option("--caller-id", default=None, help="Present this caller id number.")
@json_option
@click.pass_context
@handles_errors
def call(ctx: click.Context, to: str, dtmf: str, play: Path | None, record: Path | None,
         seconds: int, anonymous: bool, caller_id: str | None, as_json: bool) -> None:
    """A voice call from the ATA; prints answered or not, hangup cause, duration."""
    ata = Ata(state(ctx).config)
    outcome = run_async(ata.call(to, dtmf, play, record, seconds, anonymous, caller_id))
    emit(outcome, _outcome_text(outcome), as_json)


commands: list[click.Command] = [lab_group]
