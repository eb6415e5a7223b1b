"""CLI: ``faxcore fax list|show|get`` (received faxes, R2).

The ``fax`` group is shared: sending commands are added to it by their own
feature module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_with_database, state
from faxcore.config import FaxcoreConfig
from faxcore.reception.errors import ReceptionError
from faxcore.reception.store import FaxStore, FaxView


@click.group("fax")
def fax_group() -> None:
    """Faxes: received faxes, their PDFs."""


def _get(config: FaxcoreConfig, fax_id: int) -> FaxView:
    return run_with_database(config, lambda db: FaxStore(db, config.fax_dir).get(fax_id))


def _row(f: FaxView) -> str:
    when = f.started_at.strftime("%Y-%m-%d %H:%M:%S")
    return (f"{f.id:>6}  {when}  {f.line:<16} {f.caller or 'anonymous':<16} "
            f"{f.state.value:<9} {f.pages:>3} p  {f.transport:<5} {f.remote_station_id}")


def _details(f: FaxView) -> str:
    duration = f"{f.duration_s:.0f} s" if f.duration_s is not None else "in progress"
    return "\n".join([
        f"fax {f.id} to {f.line} from {f.caller or 'anonymous'}: {f.state.value}",
        f"remote station id: {f.remote_station_id or '-'}",
        f"pages: {f.pages}, {f.bit_rate} bit/s, ECM {'on' if f.ecm else 'off'}, "
        f"{'T.38' if f.transport == 't38' else 'G.711 audio'}",
        f"started {f.started_at:%Y-%m-%d %H:%M:%S}, {duration}",
        f"result: {f.result_text or '-'}" + (f" (T.30 code {f.t30_code})"
                                             if f.t30_code is not None else ""),
        f"pdf: {f.pdf_path if f.pages else '-'}",
    ])


@fax_group.command("list")
@click.option("--line", default=None, help="Only the faxes of this line (E.164).")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, line: str | None, limit: int, as_json: bool) -> None:
    """Received faxes, newest first."""
    config = state(ctx).config
    faxes = run_with_database(config, lambda db: FaxStore(db, config.fax_dir).list(line, limit))
    emit({"faxes": faxes}, "\n".join(map(_row, faxes)) or "no faxes", as_json)


@fax_group.command("show")
@click.argument("fax_id", type=int)
@json_option
@click.pass_context
@handles_errors
def show_command(ctx: click.Context, fax_id: int, as_json: bool) -> None:
    """One received fax in full."""
    fax = _get(state(ctx).config, fax_id)
    emit({"fax": fax}, _details(fax), as_json)


@fax_group.command("get")
@click.argument("fax_id", type=int)
@click.option("--pdf", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the fax's PDF.")
@json_option
@click.pass_context
@handles_errors
def get_command(ctx: click.Context, fax_id: int, out: Path, as_json: bool) -> None:
    """Copy a received fax's PDF to OUT."""
    fax = _get(state(ctx).config, fax_id)
    source = Path(fax.pdf_path)
    if not fax.pages or not source.is_file():
        raise ReceptionError(f"fax {fax_id} has no PDF ({fax.state.value}, {fax.pages} pages)")
    try:
        shutil.copyfile(source, out)
    except OSError as exc:
        raise ReceptionError(f"cannot write {out}: {exc.strerror}") from exc
    emit({"fax_id": fax_id, "pdf": str(out), "pages": fax.pages},
         f"fax {fax_id}: {fax.pages} page(s) written to {out}", as_json)


commands: list[click.Command] = [fax_group]
