"""The ``faxcore`` command. Each feature adds its group in its own module."""

from __future__ import annotations

import importlib

import click

from faxcore.cli.common import CliState
from faxcore.storage.files import private_umask

# Feature command groups, each a module of this package exposing ``group``.
_GROUPS = ("db", "lines", "asterisk", "lab", "serve", "bench", "documents", "calls", "notify",
           "fax", "fax_send", "filter", "vm")


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="YAML configuration file (default: $FAXCORE_CONFIG, ./faxcore.yaml, "
                   "/etc/faxcore/faxcore.yaml).")
@click.version_option(package_name="faxcore")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """faxcore: fax and voicemail beside Asterisk."""
    private_umask()
    ctx.obj = CliState(config_path)


for _name in _GROUPS:
    _module = importlib.import_module(f"faxcore.cli.{_name}")
    for _command in _module.commands:
        main.add_command(_command)
