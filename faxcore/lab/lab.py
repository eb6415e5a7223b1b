"""``faxcore lab up|down|status``: the chroot, the PBX instance and the ATA instance.

The PBX runs faxcore's own rendered configuration (``faxcore.asterisk``) on
the lab ports; the ATA registers to it as one line. Everything the lab starts
or mounts is recorded in ``data_dir/lab/state.json`` so ``down`` undoes
exactly that, and ``up`` is idempotent: a running lab is reused, only the
ATA's line changes when asked.
"""

from __future__ import annotations

import asyncio
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
RESULTS_DIR = "/var/lib/faxcore-lab/ata/results"
RX_DIR = "/var/lib/faxcore-lab/ata/received"
TX_DIR = "/var/lib/faxcore-lab/ata/tx"
REGISTER_TIMEOUT = 20.0


@dataclass
class LabStatus:
    """What ``lab status`` reports."""

    chroot: str
    chroot_cached: bool
    pbx_running: bool
    ata_running: bool
    ata_line: str
    ata_registered: bool
    lines: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    pbx_pid: int = 0
    ata_pid: int = 0
    pbx_sip_port: int = 0
    ata_sip_port: int = 0
    ari_port: int = 0


def render_ata_config(config: FaxcoreConfig, line: LineConf | None) -> dict[str, str]:
    """The ATA's configuration files, registered as ``line`` (or unregistered)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ATA_TEMPLATES)), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )
    port = lab_settings(config).ata_sip_port
    context = {
        "line": line, "sip_port": port, "pbx_port": lab_settings(config).pbx_sip_port,
        "results_dir": RESULTS_DIR, "rx_dir": RX_DIR, "noload": NOLOAD_MODULES,
        **media_ports(port),
    }
    files = {}
    for template in sorted(ATA_TEMPLATES.glob("*.j2")):
        try:
            files[template.name[:-3]] = env.get_template(template.name).render(context)
        except jinja2.TemplateError as exc:
            raise LabError(f"ATA template {template.name}: {exc}") from exc
    return files


class Lab:
    """The lab of one faxcore configuration (its data_dir holds the state)."""

    def __init__(self, config: FaxcoreConfig) -> None:
        self.config = config
        self.chroot = LabChroot(config)
        self.pbx = AsteriskInstance(self.chroot, "pbx")
        self.ata = AsteriskInstance(self.chroot, "ata")

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
        write_state(self.config, state)
        try:
            for inside in (RESULTS_DIR, RX_DIR, TX_DIR):
                self.chroot.host_path(inside).mkdir(parents=True, exist_ok=True)
            await self._up_pbx(state, lines)
            await self._up_ata(state, ata_line if line is not None else None, line is not None)
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
            if "pjsip.conf" in changed:
                await self.pbx.rx("module reload res_pjsip.so")
            if "extensions.conf" in changed:
                await self.pbx.rx("dialplan reload")
            return
        state.pbx_pid = await self.pbx.start()

    async def _up_ata(self, state: LabState, line: LineConf | None, set_line: bool) -> None:
        self.ata.prepare()
        if not set_line and state.line:
            # Keep the line the ATA was registered as.
            match = next((r for r in await self._lines() if r.number == state.line), None)
            line = LineConf.of(match) if match is not None else None
        changed = write_files(render_ata_config(self.config, line), self.ata.config_dir)
        state.ata_config_dir = str(self.ata.config_dir)
        state.line = line.number if line is not None else ""
        if pid_alive(state.ata_pid):
            if "pjsip.conf" in changed:
                await self.ata.rx("module reload res_pjsip.so")
            if "extensions.conf" in changed:
                await self.ata.rx("dialplan reload")
            return
        state.ata_pid = await self.ata.start()

    async def down(self) -> list[str]:
        """Stop both instances, unmount everything, forget the state; return what was done."""
        done: list[str] = []
        state = read_state(self.config)
        if state is not None:
            for instance, pid in ((self.ata, state.ata_pid), (self.pbx, state.pbx_pid)):
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
            ata_registered=registered, lines=lines,
            mounts=self.chroot.mounts() if self.chroot.path.exists() else [],
            pbx_pid=state.pbx_pid if pbx else 0, ata_pid=state.ata_pid if ata else 0,
            pbx_sip_port=state.pbx_sip_port, ata_sip_port=state.ata_sip_port,
            ari_port=state.ari_port,
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

    def require_running(self) -> LabState:
        """The running lab's state, or ``LabNotRunning``."""
        state = self.running_state()
        if state is None or not pid_alive(state.ata_pid):
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
