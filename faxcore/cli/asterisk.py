"""CLI: ``faxcore asterisk render|sync`` (Asterisk configuration from faxcore's lines)."""

from __future__ import annotations

from pathlib import Path

import click

from faxcore.asterisk.sync import SyncResult, SyncTarget, configured_target, sync_asterisk
from faxcore.cli.common import (
    emit,
    handles_errors,
    json_option,
    migrated_database,
    run_async,
    state,
)
from faxcore.config import FaxcoreConfig


async def _render(config: FaxcoreConfig, out: Path) -> dict[str, object]:
    async with migrated_database(config) as db:
        result = await sync_asterisk(db, SyncTarget(config, out), reload=False)
    return {"out": str(out), "files": result.rendered, "changed": result.written,
            "lines": result.lines}


async def _sync(config: FaxcoreConfig) -> SyncResult:
    async with migrated_database(config) as db:
        return await sync_asterisk(db, configured_target(config))


@click.group("asterisk")
def asterisk_group() -> None:
    """Asterisk configuration generated from faxcore's lines."""


@asterisk_group.command("render")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the configuration files into.")
@json_option
@click.pass_context
@handles_errors
def render(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Render pjsip.conf, extensions.conf, ARI and fax settings for every line into OUT."""
    result = run_async(_render(state(ctx).config, out))
    emit(result, f"{len(result['files'])} files for {result['lines']} lines in {out} "  # type: ignore[arg-type]
         f"({len(result['changed'])} changed)", as_json)  # type: ignore[arg-type]


@asterisk_group.command("sync")
@json_option
@click.pass_context
@handles_errors
def sync(ctx: click.Context, as_json: bool) -> None:
    """Write the configuration where Asterisk (or the running lab) reads it, and reload."""
    result = run_async(_sync(state(ctx).config))
    written = ", ".join(result.written) or "nothing"
    reloaded = ", ".join(result.reloaded) or "nothing"
    text = (f"{result.lines} lines -> {result.config_dir or '-'}; written: {written}; "
            f"reloaded: {reloaded}")
    for warning in result.warnings:
        text += f"\nwarning: {warning}"
    emit(result, text, as_json)


commands: list[click.Command] = [asterisk_group]
