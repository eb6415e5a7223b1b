"""CLI: ``faxcore db upgrade|current`` (schema migrations)."""

from __future__ import annotations

import click

from faxcore.cli.common import emit, handles_errors, json_option, run_async, state
from faxcore.storage.migrate import MigrationStatus, current, upgrade


def _describe(status: MigrationStatus) -> dict[str, object]:
    return {
        "url": status.url,
        "before": status.before,
        "current": status.current,
        "head": status.head,
        "up_to_date": status.up_to_date,
        "changed": status.changed,
    }


@click.group("db")
def db_group() -> None:
    """The database schema (SQLite in data_dir, or database.url)."""


@db_group.command("upgrade")
@json_option
@click.pass_context
@handles_errors
def upgrade_command(ctx: click.Context, as_json: bool) -> None:
    """Create or migrate the schema to the newest revision."""
    status = run_async(upgrade(state(ctx).config.database_url))
    if status.changed:
        text = (f"database {status.url}: upgraded from {status.before or 'empty'} "
                f"to {status.current} (head)")
    else:
        text = f"database {status.url}: already at {status.current} (head)"
    emit(_describe(status), text, as_json)


@db_group.command("current")
@json_option
@click.pass_context
@handles_errors
def current_command(ctx: click.Context, as_json: bool) -> None:
    """Show the schema revision; changes nothing."""
    status = run_async(current(state(ctx).config.database_url))
    if status.current is None:
        text = f"database {status.url}: not initialised (run: faxcore db upgrade)"
    elif status.up_to_date:
        text = f"database {status.url}: at {status.current} (head)"
    else:
        text = (f"database {status.url}: at {status.current}, head is {status.head} "
                "(run: faxcore db upgrade)")
    emit(_describe(status), text, as_json)


commands: list[click.Command] = [db_group]
