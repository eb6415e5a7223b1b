"""CLI: ``faxcore bench fax|documents|...``; each prints a final ``RESULT`` line."""

from __future__ import annotations

import importlib

import click

# Benchmark name -> module in faxcore.bench exposing a click command ``command``.
BENCHMARKS = {"fax": "faxcore.bench.fax", "documents": "faxcore.bench.documents",
              "receive": "faxcore.bench.receive"}


class _BenchGroup(click.Group):
    """Loads each benchmark's module only when it is run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(BENCHMARKS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in BENCHMARKS:
            return None
        command: click.Command = importlib.import_module(BENCHMARKS[name]).command
        return command


@click.group(cls=_BenchGroup, name="bench")
def bench() -> None:
    """Benchmarks, reported as ratios against a baseline run in the same process."""


commands: list[click.Command] = [bench]
