"""The lab's section of faxcore's configuration file (``lab:``, ``FAXCORE_LAB_*``).

The product reads it without knowing the lab: the section is registered
through the ``faxcore.config_sections`` entry point, and lands typed in
``FaxcoreConfig.plugins["lab"]``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from faxcore.config import Bounds, FaxcoreConfig
from faxcore.errors import ConfigError

SECTION = "lab"
_PORT = Bounds(1, 65535)


@dataclass
class LabConfig:
    """The self-test lab: a Debian sid chroot with a PBX, an ATA and a carrier Asterisk."""

    cache_dir: str = "/var/cache/faxcore/lab"
    mirror: str = ""  # empty: the first Debian mirror found in /etc/apt
    pbx_sip_port: int = 5060
    ata_sip_port: int = 5070
    ari_port: int = 8088
    ata_ari_port: int = 8089
    # The carrier (the public network) listens on its own loopback address, so
    # the PBX knows its calls by address, as it would a real carrier's.
    carrier_sip_port: int = 5080
    carrier_address: str = "127.0.0.2"

    def __post_init__(self) -> None:
        try:
            loopback = ipaddress.IPv4Address(self.carrier_address).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConfigError(f"{SECTION}.carrier_address: {self.carrier_address!r} must be a "
                              "loopback IPv4 address (127.x.y.z)")
        for key in ("pbx_sip_port", "ata_sip_port", "ari_port", "ata_ari_port",
                    "carrier_sip_port"):
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
