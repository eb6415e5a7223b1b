"""Write the rendered configuration where Asterisk reads it and reload without dropping calls.

Called after every line change (``faxcore line add|set|remove``). The caller
gives the target: ``configured_target`` is the PBX a plugin of the
distribution runs for this configuration (the lab, through the
``faxcore.asterisk_targets`` entry points, so the product never imports it),
else ``asterisk.config_dir``; with neither, nothing is written. The reload goes
through ARI (``PUT /ari/asterisk/modules/{module}``): reloading res_pjsip and
pbx_config keeps established calls up. An unreachable Asterisk is not an
error: the files are in place and the result carries a warning.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import aiohttp
from sqlalchemy import select

from faxcore.asterisk.credentials import ari_password
from faxcore.asterisk.render import render_pbx_config, write_files
from faxcore.config import FaxcoreConfig
from faxcore.storage.db import Database
from faxcore.storage.models import Line

log = logging.getLogger(__name__)

# Which module reload picks up which file.
_RELOADS = {
    "pjsip.conf": "res_pjsip.so",
    "extensions.conf": "pbx_config.so",
    "ari.conf": "res_ari.so",
    "res_fax.conf": "res_fax.so",
    "udptl.conf": "udptl",
    "voicemail.conf": "app_voicemail.so",
}


@dataclass
class SyncResult:
    """What a sync did: where it wrote, what changed, what was reloaded, warnings."""

    config_dir: str = ""
    rendered: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    # Why nothing could be written, when a change was saved but not synced.
    failed: str = ""

    @property
    def ok(self) -> bool:
        """True when everything changed is also live in Asterisk."""
        return not self.warnings and not self.failed


async def load_lines(db: Database) -> list[Line]:
    """Every line, by number: what the Asterisk configuration is rendered from."""
    async with db.session(read_only=True) as session:
        return list((await session.scalars(select(Line).order_by(Line.number))).all())


@dataclass(frozen=True)
class SyncTarget:
    """An Asterisk to sync: the configuration to render with (its ports, its ARI for
    the reload) and the folder it reads its configuration from."""

    config: FaxcoreConfig
    folder: Path


# Entry points naming ``f(config) -> SyncTarget | None``: a running PBX of a plugin.
TARGET_PLUGINS = "faxcore.asterisk_targets"
TargetFinder = Callable[[FaxcoreConfig], "SyncTarget | None"]


def configured_target(config: FaxcoreConfig) -> SyncTarget | None:
    """What ``config`` syncs to: a plugin's running PBX, else ``asterisk.config_dir``."""
    for entry in entry_points(group=TARGET_PLUGINS):
        find: TargetFinder = entry.load()
        target = find(config)
        if target is not None:
            return target
    if config.asterisk.config_dir:
        return SyncTarget(config, Path(config.asterisk.config_dir))
    return None


async def reload_modules(config: FaxcoreConfig, modules: list[str]) -> tuple[list[str], list[str]]:
    """Reload ``modules`` through ARI; return (reloaded, warnings)."""
    reloaded: list[str] = []
    warnings: list[str] = []
    token = base64.b64encode(
        f"{config.asterisk.ari_user}:{ari_password(config)}".encode()
    ).decode("ascii")
    headers = {"Authorization": f"Basic {token}"}
    timeout = aiohttp.ClientTimeout(total=10)
    base = config.asterisk.ari_url.rstrip("/")
    try:
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
            for module in modules:
                async with http.put(f"{base}/ari/asterisk/modules/{module}") as resp:
                    if resp.status == 204:
                        reloaded.append(module)
                    else:
                        body = (await resp.text()).strip()
                        warnings.append(f"reload {module}: ARI answered {resp.status} {body}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        warnings.append(
            f"Asterisk not reachable at {base} ({exc.__class__.__name__}: {exc}); "
            "configuration written, reload it by hand"
        )
    return reloaded, warnings


async def sync_asterisk(db: Database, target: SyncTarget | None,
                        reload: bool = True) -> SyncResult:
    """Render every line for ``target``, write what changed, reload the matching modules
    (``reload=False``: files only, for a folder no Asterisk reads yet)."""
    lines = await load_lines(db)
    result = SyncResult(lines=len(lines))
    if target is None:
        result.warnings.append(
            "no Asterisk configuration folder (asterisk.config_dir) and no lab running: "
            "nothing written"
        )
        return result
    files = render_pbx_config(target.config, lines)
    result.config_dir = str(target.folder)
    result.rendered = sorted(files)
    result.written = write_files(files, target.folder)
    modules = sorted({_RELOADS[n] for n in result.written if n in _RELOADS} - {"udptl"})
    if modules and reload:
        reloaded, warnings = await reload_modules(target.config, modules)
        result.reloaded = reloaded
        result.warnings.extend(warnings)
    for warning in result.warnings:
        log.warning("asterisk sync: %s", warning)
    return result
