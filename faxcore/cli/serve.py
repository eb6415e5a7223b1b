"""CLI: ``faxcore serve`` runs the Stasis application until SIGTERM/SIGINT."""

from __future__ import annotations

import json
import logging

import click

from faxcore.cli.common import handles_errors, run_async, state
from faxcore.runtime.serve import serve_until_signalled


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


@click.command("serve")
@click.option("--json-logs", is_flag=True, help="Log one JSON object per line.")
@click.pass_context
@handles_errors
def serve_command(ctx: click.Context, json_logs: bool) -> None:
    """Answer calls of faxcore's lines through ARI until stopped."""
    config = state(ctx).config
    if json_logs:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    run_async(serve_until_signalled(config))


commands: list[click.Command] = [serve_command]
