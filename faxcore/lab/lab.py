"""``faxcore lab up|down|status``: the chroot and its PBX, ATA and carrier instances.

The PBX runs faxcore's own rendered configuration (``faxcore.asterisk``) on
the lab ports; the ATA registers to it as one line; the carrier plays the
public network: the PBX's trunk (known by its own loopback address), with
remote fax machines and phones behind it. Everything the lab starts
or mounts is recorded in ``data_dir/lab/state.json`` so ``down`` undoes
exactly that, and ``up`` is idempotent: a running lab is reused, only the
ATA's line changes when asked.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from faxcore.asterisk.render import (
    NOLOAD_MODULES,
    REPO_ROOT,
    LineConf,
    media_ports,
    render_pbx_config,
    write_files,
)
from faxcore.asterisk.sync import load_lines
from faxcore.config import FaxcoreConfig
from faxcore.lab.chroot import LabChroot
from faxcore.lab.errors import InstanceError, LabError, LabNotRunning
from faxcore.lab.instance import AsteriskInstance, processes_in
from faxcore.lab.settings import lab_settings
from faxcore.lab.state import (
    LabState,
    clear_state,
    lab_pbx_config,
    pid_alive,
    read_state,
    write_state,
)
from faxcore.lines.policy import normalize_number
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.storage.models import Line

ATA_TEMPLATES = REPO_ROOT / "asterisk-conf" / "lab-ata"
# The carrier's own templates; the rest (dialplan, fax, media) are the ATA's.
CARRIER_TEMPLATES = REPO_ROOT / "asterisk-conf" / "lab-carrier"
REGISTER_TIMEOUT = 20.0


class Station(enum.StrEnum):
    """The lab's Asterisks that place and take calls like people do."""

    ATA = "ata"          # the subscriber's Plug & Fax ATA, registered as a line
    CARRIER = "carrier"  # the public network: remote fax machines and phones

    @property
    def results_dir(self) -> str:
        """Where its dialplan writes each outgoing call's outcome (in the chroot)."""
        return f"/var/lib/faxcore-lab/{self.value}/results"

    @property
    def rx_dir(self) -> str:
        """Where it keeps received faxes (a host folder is bound there)."""
        return f"/var/lib/faxcore-lab/{self.value}/received"

    @property
    def tx_dir(self) -> str:
        """Where documents to send and sounds to play are put for it."""
        return f"/var/lib/faxcore-lab/{self.value}/tx"


@dataclass
class LabStatus:
    """What ``lab status`` reports."""

    chroot: str
    chroot_cached: bool
    pbx_running: bool
    ata_running: bool
    ata_line: str
    ata_registered: bool
    carrier_running: bool
    lines: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    pbx_pid: int = 0
    ata_pid: int = 0
    pbx_sip_port: int = 0
    ata_sip_port: int = 0
    carrier_pid: int = 0
    carrier_sip_port: int = 0
    ari_port: int = 0


def render_station_config(config: FaxcoreConfig, station: Station,
                          line: LineConf | None = None) -> dict[str, str]:
    """A station's configuration files; the ATA registered as ``line`` (or unregistered).

    The carrier's side of the trunk follows the PBX's (``trunk.auth``).
    """
    folders = [CARRIER_TEMPLATES, ATA_TEMPLATES] if station is Station.CARRIER \
        else [ATA_TEMPLATES]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
        lstrip_blocks=True, autoescape=False,
    )
    lab = lab_settings(config)
    port = lab.carrier_sip_port if station is Station.CARRIER else lab.ata_sip_port
    context = {
        "line": line, "sip_port": port, "pbx_port": lab.pbx_sip_port,
        "trunk": lab_pbx_config(config).trunk,
        "carrier_address": lab.carrier_address, "station": station.value,
        "results_dir": station.results_dir, "rx_dir": station.rx_dir,
        "noload": NOLOAD_MODULES, **media_ports(port),
    }
    names = sorted({t.name for f in folders for t in f.glob("*.j2")})
    files = {}
    for name in names:
        try:
            files[name[:-3]] = env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise LabError(f"{station} template {name}: {exc}") from exc
    return files


class Lab:
    """The lab of one faxcore configuration (its data_dir holds the state)."""

    def __init__(self, config: FaxcoreConfig) -> None:
        self.config = config
        self.chroot = LabChroot(config)
        self.pbx = AsteriskInstance(self.chroot, "pbx")
        self.ata = AsteriskInstance(self.chroot, "ata")
        self.carrier = AsteriskInstance(self.chroot, "carrier")

    def instance(self, station: Station) -> AsteriskInstance:
        """The Asterisk that plays ``station``."""
        return self.carrier if station is Station.CARRIER else self.ata

    # -- database -----------------------------------------------------------
    async def _lines(self) -> list[Line]:
        await upgrade(self.config.database_url)
        db = Database(self.config.database_url)
        try:
            return await load_lines(db)
        finally:
            await db.close()

    # -- life cycle ---------------------------------------------------------
    def running_state(self) -> LabState | None:
        """The recorded state when the PBX it records is alive."""
        state = read_state(self.config)
        if state is not None and pid_alive(state.pbx_pid):
            return state
        return None

    async def up(self, line: str | None = None) -> LabStatus:
        """Bring the lab up (or keep it up); register the ATA as ``line`` when given."""
        lines = await self._lines()
        ata_line: LineConf | None = None
        if line is not None:
            number = normalize_number(line)
            match = next((row for row in lines if row.number == number), None)
            if match is None:
                raise LabError(f"line {number} does not exist (faxcore line add first)")
            ata_line = LineConf.of(match)
        state = read_state(self.config) or LabState()
        await self.chroot.ensure()
        state.chroot = str(self.chroot.path)
        state.mounts = sorted(set(state.mounts) | set(self.chroot.mount()))
        state.pbx_sip_port = lab_settings(self.config).pbx_sip_port
        state.ata_sip_port = lab_settings(self.config).ata_sip_port
        state.ari_port = lab_settings(self.config).ari_port
        state.ata_ari_port = lab_settings(self.config).ata_ari_port
        state.carrier_sip_port = lab_settings(self.config).carrier_sip_port
        write_state(self.config, state)
        try:
            for station in Station:
                for inside in (station.results_dir, station.rx_dir, station.tx_dir):
                    self.chroot.host_path(inside).mkdir(parents=True, exist_ok=True)
            await self._up_pbx(state, lines)
            await self._up_ata(state, ata_line if line is not None else None, line is not None)
            await self._up_carrier(state)
        finally:
            write_state(self.config, state)
        if ata_line is not None:
            await self.wait_registered(REGISTER_TIMEOUT)
        return await self.status()

    async def _up_pbx(self, state: LabState, lines: list[Line]) -> None:
        self.pbx.prepare()
        files = render_pbx_config(lab_pbx_config(self.config), lines)
        changed = write_files(files, self.pbx.config_dir)
        state.pbx_config_dir = str(self.pbx.config_dir)
        if pid_alive(state.pbx_pid):
            await _reload(self.pbx, changed)
            return
        state.pbx_pid = await self.pbx.start()

    async def _up_ata(self, state: LabState, line: LineConf | None, set_line: bool) -> None:
        self.ata.prepare()
        if not set_line and state.line:
            # Keep the line the ATA was registered as.
            match = next((r for r in await self._lines() if r.number == state.line), None)
            line = LineConf.of(match) if match is not None else None
        changed = write_files(render_station_config(self.config, Station.ATA, line),
                              self.ata.config_dir)
        state.ata_config_dir = str(self.ata.config_dir)
        state.line = line.number if line is not None else ""
        if pid_alive(state.ata_pid):
            await _reload(self.ata, changed)
            return
        state.ata_pid = await self.ata.start()

    async def _up_carrier(self, state: LabState) -> None:
        self.carrier.prepare()
        changed = write_files(render_station_config(self.config, Station.CARRIER),
                              self.carrier.config_dir)
        state.carrier_config_dir = str(self.carrier.config_dir)
        if pid_alive(state.carrier_pid):
            await _reload(self.carrier, changed)
            return
        state.carrier_pid = await self.carrier.start()

    async def down(self) -> list[str]:
        """Stop the instances, unmount everything, forget the state; return what was done."""
        done: list[str] = []
        state = read_state(self.config)
        if state is not None:
            for instance, pid in ((self.carrier, state.carrier_pid), (self.ata, state.ata_pid),
                                  (self.pbx, state.pbx_pid)):
                if pid_alive(pid):
                    await instance.stop(pid)
                    done.append(f"stopped {instance.name} (pid {pid})")
        if self.chroot.path.exists():
            for pid in processes_in(self.chroot.path):
                # Anything else left in the chroot (an rx client, a stray Asterisk).
                await AsteriskInstance(self.chroot, "stray").stop(pid)
                done.append(f"stopped stray pid {pid}")
            for point in self.chroot.mounts():
                self.chroot.unmount(point)
                done.append(f"unmounted {point}")
        clear_state(self.config)
        return done

    async def status(self) -> LabStatus:
        """The lab as it is now (never starts anything)."""
        state = read_state(self.config) or LabState()
        pbx = pid_alive(state.pbx_pid)
        ata = pid_alive(state.ata_pid)
        registered = False
        lines: list[str] = []
        if ata and state.line:
            registered = await self.ata_registered()
        if pbx:
            out = await self.pbx.rx("pjsip list endpoints")
            lines = [
                "+" + part.split()[1].split("/")[0]
                for part in out.splitlines()
                if part.strip().startswith("Endpoint:") and len(part.split()) > 1
                and part.split()[1].split("/")[0].isdigit()
            ]
        return LabStatus(
            chroot=str(self.chroot.path), chroot_cached=self.chroot.built,
            pbx_running=pbx, ata_running=ata, ata_line=state.line,
            ata_registered=registered, carrier_running=pid_alive(state.carrier_pid),
            lines=lines,
            mounts=self.chroot.mounts() if self.chroot.path.exists() else [],
            pbx_pid=state.pbx_pid if pbx else 0, ata_pid=state.ata_pid if ata else 0,
            pbx_sip_port=state.pbx_sip_port, ata_sip_port=state.ata_sip_port,
            carrier_pid=state.carrier_pid if pid_alive(state.carrier_pid) else 0,
            carrier_sip_port=state.carrier_sip_port, ari_port=state.ari_port,
        )

    async def ata_registered(self) -> bool:
        """True when the ATA's registration to the PBX is in state Registered."""
        out = await self.ata.rx("pjsip show registrations")
        return any("pbx-reg/" in row and "Registered" in row for row in out.splitlines())

    async def wait_registered(self, timeout: float) -> None:
        """Wait for the ATA's registration (forcing an attempt at once)."""
        await self.ata.rx("pjsip send register pbx-reg")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.ata_registered():
                return
            await asyncio.sleep(0.3)
        out = await self.ata.rx("pjsip show registrations")
        raise InstanceError(
            f"the ATA did not register to the PBX in {timeout:.0f} s: {out.strip()}"
        )

    def require_running(self, station: Station = Station.ATA) -> LabState:
        """The running lab's state with ``station`` running, or ``LabNotRunning``."""
        state = self.running_state()
        pid = state.carrier_pid if state is not None and station is Station.CARRIER \
            else state.ata_pid if state is not None else 0
        if state is None or not pid_alive(pid):
            raise LabNotRunning("the lab is not running (faxcore lab up first)")
        return state

    async def pbx_backtrace(self, timeout: float = 60.0) -> str:
        """Every thread's stack in the running PBX, read by the host's gdb (issue 21).

        The evidence of a PBX that stopped answering requests about a channel:
        which threads wait on which locks. Debian's binary is stripped, but
        module and exported names show.
        """
        state = self.require_running()
        process = await asyncio.create_subprocess_exec(
            "gdb", "-p", str(state.pbx_pid), "-batch", "-nx",
            "-ex", f"set sysroot {self.chroot.path}", "-ex", "thread apply all bt 25",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        try:
            async with asyncio.timeout(timeout):
                out, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise LabError(f"gdb gave no backtrace of the PBX in {timeout:.0f} s") from None
        return out.decode(errors="replace")

    def inside(self, host: Path) -> str:
        """The chroot path of a host path under the chroot."""
        return "/" + str(host.relative_to(self.chroot.path))


async def _reload(instance: AsteriskInstance, changed: list[str]) -> None:
    """Make a running station read its changed files."""
    if "pjsip.conf" in changed:
        await instance.rx("module reload res_pjsip.so")
    if "extensions.conf" in changed:
        await instance.rx("dialplan reload")
