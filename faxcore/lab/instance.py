"""One Asterisk process in the lab chroot, with its own directories and control socket.

Two instances (the PBX and the ATA) share the chroot; each has an
``asterisk.conf`` whose ``[directories]`` move every writable folder
(configuration, astdb, spool, run, log) under its own name, so they never
share a control socket or database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from faxcore.lab.chroot import LabChroot
from faxcore.lab.errors import InstanceError
from faxcore.lab.state import pid_alive

log = logging.getLogger(__name__)

MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
BOOT_TIMEOUT = 60.0
# Seconds a dying Asterisk may keep its control socket answering before a start.
CONTROL_SOCKET_WAIT = 15.0
STOP_TIMEOUT = 15.0

_ASTERISK_CONF = """\
; asterisk.conf of the faxcore lab instance {name} (written by faxcore lab).
[directories]
astcachedir => /var/cache/faxcore-lab/{name}
astetcdir => {etc}
astmoddir => {moddir}
astvarlibdir => /var/lib/faxcore-lab/{name}
astdbdir => /var/lib/faxcore-lab/{name}
astkeydir => /var/lib/faxcore-lab/{name}
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => /var/spool/faxcore-lab/{name}
astrundir => /run/faxcore-lab/{name}
astlogdir => /var/log/faxcore-lab/{name}
astsbindir => /usr/sbin

[options]
systemname => {name}
verbose => 3
"""

_LOGGER_CONF = """\
; logger.conf of the faxcore lab instance {name}.
[general]
[logfiles]
messages.log => notice,warning,error,verbose(3)
"""


class AsteriskInstance:
    """An Asterisk named ``name`` in ``chroot``: configure, start, ``rx()``, stop."""

    def __init__(self, chroot: LabChroot, name: str) -> None:
        self.chroot = chroot
        self.name = name
        self.etc = f"/etc/faxcore-lab/{name}"
        self.conf = f"{self.etc}/asterisk.conf"
        self.varlib = f"/var/lib/faxcore-lab/{name}"
        self.spool = f"/var/spool/faxcore-lab/{name}"
        self.log_dir = f"/var/log/faxcore-lab/{name}"

    @property
    def config_dir(self) -> Path:
        """Host path of this instance's configuration folder."""
        return self.chroot.host_path(self.etc)

    def prepare(self) -> None:
        """Create the instance's folders and its asterisk.conf and logger.conf."""
        for inside in (
            self.etc, self.varlib, self.spool, f"{self.spool}/outgoing",
            f"{self.spool}/recording", self.log_dir,  # recording: ARI live recordings
            f"/run/faxcore-lab/{self.name}", f"/var/cache/faxcore-lab/{self.name}",
        ):
            self.chroot.host_path(inside).mkdir(parents=True, exist_ok=True)
        moddir = MODULE_DIR
        if not self.chroot.host_path(MODULE_DIR).is_dir():
            moddir = "/usr/lib/asterisk/modules"
        (self.config_dir / "asterisk.conf").write_text(
            _ASTERISK_CONF.format(name=self.name, etc=self.etc, moddir=moddir)
        )
        (self.config_dir / "logger.conf").write_text(_LOGGER_CONF.format(name=self.name))

    def _command(self, *args: str) -> list[str]:
        return ["chroot", str(self.chroot.path), "/usr/sbin/asterisk", "-C", self.conf, *args]

    async def _wait_control_socket_closed(self) -> None:
        """Until no Asterisk accepts on this instance's control socket.

        A SIGKILLed Asterisk shows as a zombie as soon as its main thread is
        gone, while its other threads may still hold its sockets. An Asterisk
        started then finds the control socket answering, says "Asterisk
        already running" and exits with 1 (met once by the lab soak, after
        the PBX-kill test).
        """
        path = self.chroot.host_path(f"/run/faxcore-lab/{self.name}/asterisk.ctl")
        deadline = time.monotonic() + CONTROL_SOCKET_WAIT
        while path.exists() and _accepts(path):
            if time.monotonic() > deadline:
                raise InstanceError(f"Asterisk {self.name} is still running ({path} answers)")
            await asyncio.sleep(0.1)

    async def start(self) -> int:
        """Start Asterisk in the background (own session, outlives us); return its pid."""
        await self._wait_control_socket_closed()
        log_file = self.chroot.host_path(f"{self.log_dir}/console.log")
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # Each start begins with empty logs: the chroot (and its /var/log) is
        # cached across runs, and a line left by an earlier run must never
        # pass for something this instance did.
        # So does its call-file spool: a call file left by an earlier run (or
        # copied with a chroot while it was in flight) would be dialled now.
        outgoing = self.chroot.host_path(f"{self.spool}/outgoing")
        for old in [*log_file.parent.iterdir(), *outgoing.glob("*")]:
            if old.is_file():
                old.unlink()
        with log_file.open("wb") as out:
            try:
                proc = subprocess.Popen(
                    self._command("-f"), stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as exc:
                raise InstanceError(f"cannot start Asterisk {self.name}: {exc}") from exc
        await self.wait_booted(proc)
        return proc.pid

    async def wait_booted(self, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until Asterisk answers ``core waitfullybooted``."""
        deadline = time.monotonic() + BOOT_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                console = self.chroot.host_path(f"{self.log_dir}/console.log")
                # The next start empties the log folder: the reason goes in the error.
                tail = console.read_text(errors="replace").splitlines()[-15:] \
                    if console.is_file() else []
                raise InstanceError(
                    f"Asterisk {self.name} exited with {proc.returncode} while starting; "
                    f"the end of {console}:\n" + "\n".join(tail)
                )
            try:
                await self.rx("core waitfullybooted", timeout=10)
                return
            except InstanceError as exc:
                last = str(exc)
            await asyncio.sleep(0.3)
        raise InstanceError(f"Asterisk {self.name} not booted after {BOOT_TIMEOUT:.0f} s: {last}")

    async def rx(self, command: str, timeout: float = 15.0) -> str:
        """Run a CLI command in the running instance; return its output."""
        proc = await asyncio.create_subprocess_exec(
            *self._command("-rx", command),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise InstanceError(f"Asterisk {self.name}: {command!r} timed out") from exc
        text = out.decode(errors="replace")
        if proc.returncode != 0 or "Unable to connect to remote asterisk" in text:
            detail = (err.decode(errors="replace") or text).strip().splitlines()
            last = detail[-1] if detail else str(proc.returncode)
            raise InstanceError(f"Asterisk {self.name}: {command!r} failed: {last}")
        return text

    async def stop(self, pid: int) -> None:
        """``core stop now``, then SIGTERM, then SIGKILL: the process is gone on return."""
        if not pid_alive(pid):
            return
        try:
            await self.rx("core stop now", timeout=10)
        except InstanceError as exc:
            log.warning("%s; signalling pid %d", exc, pid)
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + STOP_TIMEOUT / 3
            while time.monotonic() < deadline:
                _reap(pid)
                if not pid_alive(pid):
                    return
                await asyncio.sleep(0.1)
        raise InstanceError(f"Asterisk {self.name} (pid {pid}) does not die")


def _reap(pid: int) -> None:
    """Collect the exit status when the instance is our own child."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def processes_in(root: Path) -> list[int]:
    """Every process whose root directory is ``root`` (what ``lab down`` must leave empty)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "root")) == root:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return sorted(pids)


def _accepts(path: Path) -> bool:
    """True when a process accepts connections on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True

