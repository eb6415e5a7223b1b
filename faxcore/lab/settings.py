"""The lab's section of faxcore's configuration file (``lab:``, ``FAXCORE_LAB_*``).

The product reads it without knowing the lab: the section is registered
through the ``faxcore.config_sections`` entry point, and lands typed in
``FaxcoreConfig.plugins["lab"]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from faxcore.config import Bounds, FaxcoreConfig
from faxcore.errors import ConfigError

SECTION = "lab"
_PORT = Bounds(1, 65535)


@dataclass
class LabConfig:
    """The self-test lab: a Debian sid chroot with a PBX and an ATA Asterisk."""

    cache_dir: str = "/var/cache/faxcore/lab"
    mirror: str = ""  # empty: the first Debian mirror found in /etc/apt
    pbx_sip_port: int = 5060
    ata_sip_port: int = 5070
    ari_port: int = 8088
    ata_ari_port: int = 8089

    def __post_init__(self) -> None:
        for key in ("pbx_sip_port", "ata_sip_port", "ari_port", "ata_ari_port"):
            _PORT.check(f"{SECTION}.{key}", getattr(self, key))


def lab_settings(config: FaxcoreConfig) -> LabConfig:
    """The lab's section of ``config`` (its defaults when the file has none)."""
    section = config.plugins.get(SECTION)
    return section if isinstance(section, LabConfig) else LabConfig()


def with_lab(config: FaxcoreConfig, **changes: Any) -> FaxcoreConfig:
    """``config`` with some of the lab's settings changed."""
    unknown = set(changes) - {f.name for f in dataclasses.fields(LabConfig)}
    if unknown:
        raise ConfigError(f"{SECTION}: unknown key {sorted(unknown)[0]!r}")
    return replace(config, plugins={**config.plugins,
                                    SECTION: replace(lab_settings(config), **changes)})
