"""CLI: ``faxcore filter add|remove|list --line N`` (R4 inbound filtering)."""

from __future__ import annotations

import click

from faxcore.cli.common import (
    emit,
    handles_errors,
    json_option,
    migrated_database,
    run_async,
    run_with_database,
    state,
)
from faxcore.config import FaxcoreConfig
from faxcore.domain import FilterKind
from faxcore.errors import ValidationError
from faxcore.lines.policy import normalize_number
from faxcore.reception.filters import FilterService

line_option = click.option("--line", "line", required=True, help="The line (E.164).")
entry_options = [
    click.option("--block", "block", default=None, metavar="NUMBER|PREFIX*",
                 help="Blacklist a number or a prefix ending in '*'."),
    click.option("--allow", "allow", default=None, metavar="NUMBER|PREFIX*",
                 help="Whitelist a number or prefix (any whitelist entry refuses all others)."),
    click.option("--anonymous", is_flag=True, help="Refuse callers who withhold their number."),
]


def _entry_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(entry_options):
        func = option(func)
    return func


def _one(block: str | None, allow: str | None, anonymous: bool) -> tuple[FilterKind, str] | None:
    given = [x for x in (block, allow) if x is not None]
    if len(given) + int(anonymous) != 1:
        raise ValidationError("give exactly one of --block, --allow, --anonymous")
    if anonymous:
        return None
    return (FilterKind.BLOCK, block) if block is not None else (FilterKind.ALLOW, str(allow))


@click.group("filter")
def filter_group() -> None:
    """Inbound call filters of a line: blacklist, whitelist, anonymous callers."""


async def _change(config: FaxcoreConfig, line: str, what: tuple[FilterKind, str] | None,
                  add: bool) -> None:
    async with migrated_database(config) as db:
        service = FilterService(db)
        if what is None:
            await service.set_refuse_anonymous(line, add)
        elif add:
            await service.add(line, *what)
        else:
            await service.remove(line, *what)


@filter_group.command("add")
@line_option
@_entry_options
@click.pass_context
@handles_errors
def add_command(ctx: click.Context, line: str, block: str | None, allow: str | None,
                anonymous: bool) -> None:
    """Add a blacklist or whitelist entry, or refuse anonymous callers."""
    run_async(_change(state(ctx).config, normalize_number(line), _one(block, allow, anonymous),
                      True))
    click.echo("ok")


@filter_group.command("remove")
@line_option
@_entry_options
@click.pass_context
@handles_errors
def remove_command(ctx: click.Context, line: str, block: str | None, allow: str | None,
                   anonymous: bool) -> None:
    """Remove an entry, or accept anonymous callers again."""
    run_async(_change(state(ctx).config, normalize_number(line), _one(block, allow, anonymous),
                      False))
    click.echo("ok")


@filter_group.command("list")
@line_option
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, line: str, as_json: bool) -> None:
    """The line's filters."""
    refuse, entries = run_with_database(
        state(ctx).config, lambda db: FilterService(db).list(normalize_number(line)))
    text = "\n".join([f"anonymous callers: {'refused' if refuse else 'accepted'}"]
                     + [f"{e.kind.value:<6}{e.pattern}" for e in entries])
    emit({"refuse_anonymous": refuse,
          "entries": [{"kind": e.kind.value, "pattern": e.pattern} for e in entries]},
         text, as_json)


commands: list[click.Command] = [filter_group]
