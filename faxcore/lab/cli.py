"""CLI: ``faxcore lab up|down|status``, ``faxcore lab ata|carrier ...`` (the self-test lab)."""

from __future__ import annotations

from pathlib import Path

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_async, state
from faxcore.lab.lab import Lab, LabStatus
from faxcore.lab.stations import ANSWER_MODES, FAX_MODES, Ata, CallOutcome, Carrier, LabStation


def _status_text(s: LabStatus) -> str:
    ata = "not running"
    if s.ata_running:
        ata = f"running, line {s.ata_line or '-'}, " + (
            "registered" if s.ata_registered else "not registered")
    pbx = "not running"
    if s.pbx_running:
        pbx = f"running (pid {s.pbx_pid}, SIP {s.pbx_sip_port}, ARI {s.ari_port})"
    carrier = f"running (pid {s.carrier_pid}, SIP {s.carrier_sip_port})" \
        if s.carrier_running else "not running"
    return "\n".join([
        f"chroot: {s.chroot} ({'cached' if s.chroot_cached else 'not built'})",
        f"pbx: {pbx}",
        f"ata: {ata}",
        f"carrier: {carrier}",
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
    """The self-test lab: a PBX, an ATA and a carrier Asterisk in a Debian sid chroot."""


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
    """Stop the Asterisk instances and unmount everything the lab mounted."""
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


def _station_group(station: type[LabStation], name: str, what: str) -> click.Group:
    """``faxcore lab <name> send-fax|receive-fax|call``: act as one of the lab's stations."""
    group = click.Group(name, help=f"Act as {what}.")

    @group.command("send-fax")
    @click.option("--to", "to", required=True, help="Number to fax (E.164).")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--mode", type=click.Choice(FAX_MODES), default="t38", show_default=True)
    @click.option("--station-id", default="", help="Transmitting station id (TSI).")
    @click.option("--hangup-after-page", type=int, default=None,
                  help="Hang up once this many pages were sent.")
    @click.option("--caller-id", default=None, help="Present this caller id number.")
    @click.option("--timeout", type=float, default=600.0, show_default=True)
    @json_option
    @click.pass_context
    @handles_errors
    def send_fax(ctx: click.Context, to: str, file: Path, mode: str, station_id: str,
                 hangup_after_page: int | None, caller_id: str | None, timeout: float,
                 as_json: bool) -> None:
        """Fax FILE through the PBX and print the outcome (FAXSTATUS, ...)."""
        phone = station(state(ctx).config)
        outcome = run_async(phone.send_fax(to, file, mode, station_id, hangup_after_page,
                                           timeout, caller_id=caller_id))
        emit(outcome, _outcome_text(outcome), as_json)
        if not outcome.fax_ok:
            ctx.exit(2)

    @group.command("receive-fax")
    @click.option("--out", "out", required=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="Folder where received faxes (TIFF + .vars outcome) land.")
    @click.option("--mode", type=click.Choice(FAX_MODES), default="t38", show_default=True)
    @click.option("--answer", type=click.Choice(ANSWER_MODES), default="on", show_default=True)
    @json_option
    @click.pass_context
    @handles_errors
    def receive_fax(ctx: click.Context, out: Path, mode: str, answer: str,
                    as_json: bool) -> None:
        """Set how incoming calls are treated from now on."""
        result = run_async(station(state(ctx).config).receive_fax(out, mode, answer))
        emit(result, f"{name} answers incoming calls: {answer} ({mode}), faxes into {out}",
             as_json)

    @group.command("call")
    @click.option("--to", "to", required=True, help="Number to call.")
    @click.option("--dtmf", default="",
                  help="Digits to send once answered (w: half-second pause).")
    @click.option("--play", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--record", type=click.Path(dir_okay=False, path_type=Path),
                  help="Record what is heard into this WAV file.")
    @click.option("--seconds", type=int, default=10, show_default=True,
                  help="Stay this long on the call after answer (and DTMF/playback).")
    @click.option("--anonymous", is_flag=True, help="Withhold the caller id.")
    @click.option("--caller-id", default=None, help="Present this caller id number.")
    @json_option
    @click.pass_context
    @handles_errors
    def call(ctx: click.Context, to: str, dtmf: str, play: Path | None, record: Path | None,
             seconds: int, anonymous: bool, caller_id: str | None, as_json: bool) -> None:
        """A voice call; prints answered or not, hangup cause, duration."""
        phone = station(state(ctx).config)
        outcome = run_async(phone.call(to, dtmf, play, record, seconds, anonymous, caller_id))
        emit(outcome, _outcome_text(outcome), as_json)

    return group


lab_group.add_command(_station_group(
    Ata, "ata", "the subscriber's ATA (the fax machine or phone behind it)"))
lab_group.add_command(_station_group(
    Carrier, "carrier",
    "the public network: a remote fax machine or phone calling over the PBX's trunk"))


commands: list[click.Command] = [lab_group]
