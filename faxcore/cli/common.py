"""What every CLI command shares: config, ``--json`` output, one-line errors."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from faxcore.config import FaxcoreConfig, load_config
from faxcore.errors import FaxcoreError
from faxcore.storage.db import Database
from faxcore.storage.files import private_dir
from faxcore.storage.migrate import upgrade

P = ParamSpec("P")
T = TypeVar("T")


class CliState:
    """Per-invocation state: the configuration, loaded on first use."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: FaxcoreConfig | None = None

    @property
    def config(self) -> FaxcoreConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
            private_dir(self._config.data_dir)
            logging.basicConfig(
                level=self._config.log_level.upper(),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
        return self._config


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def emit(data: Any, text: str, as_json: bool) -> None:
    """Print the result: JSON for machines, ``text`` for people."""
    if as_json:
        click.echo(json.dumps(_jsonable(data), indent=2, sort_keys=True))
    elif text:
        click.echo(text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def fail(message: str, as_json: bool = False, code: int = 1) -> None:
    """Print one clear error line (or a JSON error object) and exit non-zero."""
    if as_json:
        click.echo(json.dumps({"error": message}))
    else:
        click.echo(f"faxcore: error: {message}", err=True)
    sys.exit(code)


def handles_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn faxcore's domain errors into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except FaxcoreError as exc:
            fail(str(exc), bool(kwargs.get("as_json")))
            raise AssertionError("unreachable") from exc

    return wrapper


def run_async(factory: Callable[[], Coroutine[Any, Any, T]] | Awaitable[T]) -> T:
    """Run a coroutine from a synchronous click command."""
    coro = factory() if callable(factory) else factory
    return asyncio.run(coro)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def migrated_database(config: FaxcoreConfig) -> AsyncIterator[Database]:
    """The configured database, migrated to the code's schema, closed afterwards."""
    await upgrade(config.database_url)
    db = Database(config.database_url)
    try:
        yield db
    finally:
        await db.close()


def run_with_database(config: FaxcoreConfig, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the migrated, configured database from a synchronous command."""

    async def run() -> T:
        async with migrated_database(config) as db:
            return await work(db)

    return asyncio.run(run())


def state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:  # invoked without the main group (tests calling a sub-command)
        obj = CliState(None)
        ctx.obj = obj
    return obj
