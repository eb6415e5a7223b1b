"""The lab's state file (``data_dir/lab/state.json``), shared by ``lab`` and ``asterisk sync``.

It is the only record of what ``lab up`` started and mounted, so ``lab down``
can undo exactly that, and a sync finds where the running PBX reads its
configuration (``running_lab_target``, the lab's ``faxcore.asterisk_targets``
entry point).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from faxcore.asterisk.sync import SyncTarget
from faxcore.config import FaxcoreConfig
from faxcore.lab.chroot import LabChroot
from faxcore.lab.errors import LabError
from faxcore.lab.settings import lab_settings


@dataclass
class LabState:
    """What a running lab consists of; paths are host paths."""

    chroot: str = ""
    pbx_pid: int = 0
    ata_pid: int = 0
    carrier_pid: int = 0
    pbx_config_dir: str = ""
    ata_config_dir: str = ""
    carrier_config_dir: str = ""
    pbx_sip_port: int = 0
    ata_sip_port: int = 0
    carrier_sip_port: int = 0
    ari_port: int = 0
    ata_ari_port: int = 0
    line: str = ""
    mounts: list[str] = field(default_factory=list)
    # Host folder bound as each station's (ATA, carrier) received-fax folder.
    rx_dirs: dict[str, str] = field(default_factory=dict)


def state_path(config: FaxcoreConfig) -> Path:
    """Where the lab of this data_dir records itself."""
    return Path(config.data_dir) / "lab" / "state.json"


def read_state(config: FaxcoreConfig) -> LabState | None:
    """The recorded lab, or None when no lab was brought up for this data_dir."""
    path = state_path(config)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"{path}: unreadable lab state: {exc}") from exc
    known = {k: v for k, v in data.items() if k in LabState.__dataclass_fields__}
    return LabState(**known)


def write_state(config: FaxcoreConfig, state: LabState) -> None:
    """Record the lab atomically."""
    path = state_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2, sort_keys=True))
    tmp.replace(path)


def clear_state(config: FaxcoreConfig) -> None:
    """Forget the lab (after ``lab down``)."""
    state_path(config).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """True while any thread of the process runs (a zombie whose threads all ended is not).

    A killed multithreaded process shows its main thread as a zombie while
    the others still exit, holding its sockets: that is still alive.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for thread in threads:
        try:
            state = (thread / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue  # gone meanwhile
        if state not in ("Z", "X"):
            return True
    return False


LAB_TRUNK = "carrier"  # the PBX's trunk endpoint to the lab's carrier
# The account the PBX registers with at the lab's carrier (trunk.auth: register).
LAB_TRUNK_USER = "33972100000"
LAB_TRUNK_PASSWORD = "Lab-trunk-7q"
LAB_VM_SOUNDS = "/var/lib/faxcore-lab/vm-sounds"  # greetings, as the lab PBX sees them
LAB_VM_SPOOL = "/var/spool/faxcore-lab/pbx/voicemail"  # the lab PBX's app_voicemail spool


def lab_pbx_config(config: FaxcoreConfig) -> FaxcoreConfig:
    """``config`` as seen by the lab's PBX: its ports on the loopback, the carrier as its trunk.

    The trunk keeps the configured DIDs (``trunk.dids``) and how the carrier
    authenticates (``trunk.auth``): known by its address, or registered to
    with the configured (else the lab's) user name and password.
    """
    lab = lab_settings(config)
    asterisk = replace(
        config.asterisk,
        sip_bind=f"127.0.0.1:{lab.pbx_sip_port}",
        ari_bind=f"127.0.0.1:{lab.ari_port}",
        ari_url=f"http://127.0.0.1:{lab.ari_port}",
    )
    chroot = LabChroot(config)
    voicemail = replace(config.voicemail,
                        sounds_dir=str(chroot.host_path(LAB_VM_SOUNDS)),
                        sounds_dir_in_asterisk=LAB_VM_SOUNDS,
                        mwi_spool_dir=str(chroot.host_path(LAB_VM_SPOOL)))
    host = f"{lab.carrier_address}:{lab.carrier_sip_port}"
    if config.trunk.auth == "register":
        trunk = replace(config.trunk, name=LAB_TRUNK, host=host,
                        username=config.trunk.username or LAB_TRUNK_USER,
                        password=config.trunk.password or LAB_TRUNK_PASSWORD)
    else:
        trunk = replace(config.trunk, name=LAB_TRUNK, host=host, username="", password="")
    return replace(config, asterisk=asterisk, voicemail=voicemail, trunk=trunk)


def running_lab_target(config: FaxcoreConfig) -> SyncTarget | None:
    """The lab's PBX when a lab is up for this data_dir: line changes are synced there."""
    state = read_state(config)
    if state is not None and state.pbx_config_dir and pid_alive(state.pbx_pid):
        return SyncTarget(lab_pbx_config(config), Path(state.pbx_config_dir))
    return None
