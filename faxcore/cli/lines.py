"""CLI: ``faxcore line add|list|show|set|remove`` (line provisioning, L1-L4).

Secrets need not appear on the command line (and so in ``ps``): a secret
given as ``-`` is read from standard input, one line per ``-`` in the order
sip password, fax password, PIN (for ``set``: the order of the arguments);
``env:NAME`` reads the environment variable NAME. Changes go through
``LineProvisioning``, which makes them live in Asterisk; a sync that cannot
write is a warning on the saved change (exit 0).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from faxcore.asterisk.sync import SyncResult, configured_target
from faxcore.cli.common import (
    emit,
    handles_errors,
    json_option,
    migrated_database,
    run_async,
    state,
)
from faxcore.config import FaxcoreConfig
from faxcore.lines.errors import InvalidLineInput
from faxcore.lines.provisioning import LineChange, LineProvisioning
from faxcore.lines.service import SETTABLE, LineService, LineView

_SECRETS = ("sip_password", "fax_password", "pin")


class SecretReader:
    """Resolves ``-`` (next line of stdin) and ``env:NAME`` secret arguments."""

    def __init__(self) -> None:
        self._stdin_lines: list[str] | None = None

    def __call__(self, name: str, value: str | None) -> str | None:
        if value is None:
            return None
        if value == "-":
            if self._stdin_lines is None:
                self._stdin_lines = sys.stdin.read().splitlines()
            if not self._stdin_lines:
                raise InvalidLineInput(f"{name}: '-' given but standard input has no line left")
            return self._stdin_lines.pop(0)
        if value.startswith("env:"):
            var = value[4:]
            if var not in os.environ:
                raise InvalidLineInput(f"{name}: environment variable {var!r} is not set")
            return os.environ[var]
        return value


def _asterisk_summary(result: SyncResult) -> str:
    if result.failed:
        return (f"asterisk: warning: {result.failed}; the line change is saved: run "
                "'faxcore asterisk sync' once this is fixed")
    if not result.config_dir:
        return "asterisk: not configured (no asterisk.config_dir and no lab): nothing written"
    parts = [f"asterisk: {len(result.written)} file(s) written to {result.config_dir}"]
    if result.reloaded:
        parts.append(f"reloaded {', '.join(result.reloaded)}")
    elif result.written:
        parts.append("nothing reloaded")
    else:
        parts.append("configuration unchanged")
    text = "; ".join(parts)
    for warning in result.warnings:
        text += f"\nasterisk: warning: {warning}"
    return text


def _asterisk_json(result: SyncResult) -> dict[str, Any]:
    return {
        "configured": bool(result.config_dir),
        "config_dir": result.config_dir,
        "written": result.written,
        "reloaded": result.reloaded,
        "warnings": result.warnings,
        "failed": result.failed,
        "ok": result.ok and bool(result.config_dir),
    }


async def _provisioning(config: FaxcoreConfig,
                        change: Callable[[LineProvisioning], Awaitable[LineChange]]) -> LineChange:
    async with migrated_database(config) as db:
        return await change(LineProvisioning(db, config, configured_target(config)))


async def _reading(config: FaxcoreConfig, read: Callable[[LineService], Awaitable[Any]]) -> Any:
    async with migrated_database(config) as db:
        return await read(LineService(db, config=config))


def _view_text(view: LineView) -> str:
    return "\n".join([
        f"number:        {view.number}",
        f"mode:          {view.mode.value}",
        f"sip username:  {view.sip_username}",
        f"sip realm:     {view.sip_realm}",
        f"station id:    {view.station_id} (receive, CSI)",
        f"transmit id:   {view.tsi or view.station_id or view.number} (send, TSI)",
        f"header:        {view.header}",
        f"send:          {view.send_quality} quality, "
        f"{view.send_max_attempts or 'configured'} attempts",
        f"language:      {view.language}",
        f"fax password:  {'set' if view.has_fax_password else 'not set'}",
        f"pin:           {'set' if view.has_pin else 'not set'}",
        f"mail:          {view.mail_format}, from {view.mail_from_name or '-'} "
        f"<{view.mail_from or 'default'}>",
        f"voicemail:     {view.audio_format}, "
        f"{'keep' if view.keep_voicemail else 'delete'} original after e-mail",
        f"created:       {view.created_at.isoformat(timespec='seconds')}",
        f"updated:       {view.updated_at.isoformat(timespec='seconds')}",
    ])


def _emit_change(verb: str, change: LineChange, as_json: bool) -> None:
    view = change.line
    emit({"line": view, "asterisk": _asterisk_json(change.asterisk)},
         f"line {view.number} {verb} ({view.mode.value})\n{_asterisk_summary(change.asterisk)}",
         as_json)


@click.group("line")
def line_group() -> None:
    """Subscriber lines: numbers, modes, SIP credentials, fax password, voicemail PIN."""


@line_group.command("add")
@click.argument("number")
@click.option("--sip-password", required=True,
              help="SIP password of the ATA (8-20 chars, 2 classes); '-' or env:NAME.")
@click.option("--fax-password", default=None,
              help="Web/e-mail fax password (6-12 chars); '-' or env:NAME.")
@click.option("--pin", default=None, help="Voicemail PIN (4-10 digits); '-' or env:NAME.")
@click.option("--mode", type=click.Choice(["fax", "voicemail"]), default="fax", show_default=True)
@click.option("--station-id", default="", help="Fax identity (CSI/TSI), up to 20 characters.")
@click.option("--header", default="", help="Page header line of sent faxes.")
@click.option("--language", default="fr", show_default=True, help="Prompt language.")
@json_option
@click.pass_context
@handles_errors
def add_command(ctx: click.Context, number: str, sip_password: str, fax_password: str | None,
                pin: str | None, mode: str, station_id: str, header: str, language: str,
                as_json: bool) -> None:
    """Provision a line NUMBER (international format, e.g. +33123456789)."""
    read = SecretReader()
    sip = read("sip_password", sip_password) or ""
    fax = read("fax_password", fax_password)
    code = read("pin", pin)
    change = run_async(_provisioning(
        state(ctx).config,
        lambda p: p.add(number, sip, fax_password=fax, pin=code, mode=mode,
                        station_id=station_id, header=header, language=language)))
    _emit_change("added", change, as_json)


@line_group.command("list")
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List every line."""
    views = run_async(_reading(state(ctx).config, lambda s: s.list()))
    rows = [f"{v.number:<17} {v.mode.value:<10} {v.station_id}" for v in views]
    text = "\n".join(rows) if rows else "no lines"
    emit({"lines": views}, text, as_json)


@line_group.command("show")
@click.argument("number")
@json_option
@click.pass_context
@handles_errors
def show_command(ctx: click.Context, number: str, as_json: bool) -> None:
    """Show one line's settings (never its secrets)."""
    view = run_async(_reading(state(ctx).config, lambda s: s.get(number)))
    emit({"line": view}, _view_text(view), as_json)


def _parse_assignments(pairs: tuple[str, ...], read: SecretReader) -> dict[str, Any]:
    if not pairs:
        raise InvalidLineInput(
            f"nothing to set: give key=value with key among {', '.join(SETTABLE)}"
        )
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise InvalidLineInput(f"{pair!r} is not key=value")
        if key not in SETTABLE:
            raise InvalidLineInput(f"unknown setting {key!r}; settable: {', '.join(SETTABLE)}")
        if key in changes:
            raise InvalidLineInput(f"setting {key!r} given twice")
        if key in _SECRETS:
            # An empty value removes the fax password or PIN.
            changes[key] = read(key, value) if value else None
        else:
            changes[key] = value
    return changes


@line_group.command("set")
@click.argument("number")
@click.argument("assignments", nargs=-1)
@json_option
@click.pass_context
@handles_errors
def set_command(ctx: click.Context, number: str, assignments: tuple[str, ...],
                as_json: bool) -> None:
    """Change settings: key=value ... (mode, fax_password, pin, sip_password,
    station_id (CSI, received faxes), tsi (sent faxes; empty: station_id), header,
    language, send_quality=normal|high|premium|best, send_max_attempts=1..10 (empty:
    send.max_attempts), mail_format=text|html, mail_from, mail_from_name,
    audio_format=wav|mp3|ogg, keep_voicemail=yes|no). 'pin=' or 'fax_password=' removes
    that secret."""
    changes = _parse_assignments(assignments, SecretReader())
    change = run_async(_provisioning(state(ctx).config, lambda p: p.set(number, **changes)))
    _emit_change("changed", change, as_json)


@line_group.command("remove")
@click.argument("number")
@json_option
@click.pass_context
@handles_errors
def remove_command(ctx: click.Context, number: str, as_json: bool) -> None:
    """Remove a line (its call log stays)."""
    change = run_async(_provisioning(state(ctx).config, lambda p: p.remove(number)))
    _emit_change("removed", change, as_json)


commands: list[click.Command] = [line_group]
