"""The ``faxcore`` command. Each feature adds its group in its own module.

The lab and the benchmarks are not part of the product: they plug their
groups in through the ``faxcore.commands`` entry points, so the product
never imports them.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

import click

from faxcore.cli.common import CliState
from faxcore.storage.files import private_umask

# Feature command groups, each a module of this package exposing ``group``.
_GROUPS = ("db", "lines", "asterisk", "serve", "documents", "calls", "notify", "fax",
           "fax_send", "filter", "vm")
# Groups of other packages of the distribution: ``commands``, a list of click commands.
PLUGIN_GROUP = "faxcore.commands"


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
for _entry in entry_points(group=PLUGIN_GROUP):
    for _command in _entry.load():
        main.add_command(_command)
