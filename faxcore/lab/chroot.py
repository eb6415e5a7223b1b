"""The lab's Debian sid chroot: built once with debootstrap, cached, mounted while in use.

Debian 12 has no Asterisk package and sid's libc is too new for the host, so
Asterisk 22 runs in a chroot. The chroot is cached under
``lab.cache_dir/rootfs-<key>``, the key hashing suite, variant and package
list; it is built in a temporary folder and renamed when debootstrap
succeeded, so a half-built tree is never reused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from faxcore.config import FaxcoreConfig
from faxcore.lab.errors import ChrootError
from faxcore.lab.settings import lab_settings

log = logging.getLogger(__name__)

SUITE = "sid"
VARIANT = "minbase"
PACKAGES = (
    "asterisk", "asterisk-modules", "asterisk-config",
    "asterisk-core-sounds-en", "asterisk-core-sounds-fr",
)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT = 1800.0


def cache_key(packages: tuple[str, ...] = PACKAGES) -> str:
    """Short hash naming a chroot built from exactly these inputs."""
    text = f"{VARIANT} {SUITE} " + ",".join(sorted(packages))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def find_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The first Debian mirror configured for apt on this host (deb822 or one-line format)."""
    candidates: list[str] = []
    for source in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for line in source.read_text().splitlines():
            if line.lower().startswith("uris:"):
                candidates.extend(line.split(":", 1)[1].split())
    for source in [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]:
        if source.exists():
            for line in source.read_text().splitlines():
                parts = line.split()
                if parts and parts[0] == "deb":
                    candidates.extend(p for p in parts[1:] if "://" in p)
    for uri in candidates:
        if "security" not in uri and "/debian" in uri:
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def _mounted_under(root: Path) -> list[str]:
    """Mount points inside ``root`` (from /proc/mounts), deepest first."""
    prefix = str(root).rstrip("/") + "/"
    points = []
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 1:
            point = fields[1].replace("\\040", " ")
            if point.startswith(prefix) or point == str(root):
                points.append(point)
    return sorted(set(points), key=len, reverse=True)


class LabChroot:
    """One cached chroot: ``ensure()`` builds it; ``mount()``/``unmount()`` what it needs."""

    def __init__(self, config: FaxcoreConfig, packages: tuple[str, ...] = PACKAGES) -> None:
        self.cache_dir = Path(lab_settings(config).cache_dir)
        self.packages = packages
        self.mirror = lab_settings(config).mirror or find_mirror()
        self.path = self.cache_dir / f"rootfs-{cache_key(packages)}"

    @property
    def built(self) -> bool:
        """True when a complete chroot is cached."""
        return (self.path / "usr" / "sbin" / "asterisk").exists()

    async def ensure(self) -> Path:
        """Build the chroot unless it is cached; return its path."""
        if self.built:
            return self.path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=self.cache_dir))
        try:
            target = work / "rootfs"
            command = [
                "debootstrap", f"--variant={VARIANT}", "--include=" + ",".join(self.packages),
                SUITE, str(target), self.mirror,
            ]
            log.info("building the lab chroot: %s", " ".join(command))
            proc = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), BUILD_TIMEOUT)
            except TimeoutError as exc:
                proc.kill()
                await proc.wait()
                raise ChrootError(f"debootstrap did not finish in {BUILD_TIMEOUT:.0f} s") from exc
            if proc.returncode != 0:
                tail = out.decode(errors="replace").strip().splitlines()[-5:]
                raise ChrootError(f"debootstrap failed ({proc.returncode}): {' | '.join(tail)}")
            for point in _mounted_under(target):
                _umount(point)
            if self.built:  # another process won the race
                return self.path
            target.rename(self.path)
        except FileNotFoundError as exc:
            raise ChrootError("debootstrap is not installed (apt-get install debootstrap)") from exc
        finally:
            for point in _mounted_under(work):
                _umount(point)
            shutil.rmtree(work, ignore_errors=True)
        return self.path

    def host_path(self, inside: str) -> Path:
        """The host path of ``inside`` (an absolute path in the chroot)."""
        return self.path / inside.lstrip("/")

    def mount(self) -> list[str]:
        """Mount /proc in the chroot (once); return the mount points now owned by the lab."""
        proc = self.path / "proc"
        if str(proc) not in _mounted_under(self.path):
            _run(["mount", "-t", "proc", "proc", str(proc)])
        return [str(proc)]

    def bind(self, host_dir: Path, inside: str) -> str:
        """Bind-mount ``host_dir`` at ``inside``; return the mount point."""
        point = self.host_path(inside)
        point.mkdir(parents=True, exist_ok=True)
        if str(point) in _mounted_under(self.path):
            _umount(str(point))
        _run(["mount", "--bind", str(host_dir), str(point)])
        return str(point)

    def unmount(self, point: str) -> None:
        """Unmount one mount point if it is mounted."""
        if point in _mounted_under(self.path):
            _umount(point)

    def mounts(self) -> list[str]:
        """What is mounted inside the chroot now."""
        return _mounted_under(self.path)


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        raise ChrootError(f"{' '.join(command)}: {exc.stderr.strip() or exc.returncode}") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChrootError(f"{' '.join(command)}: {exc}") from exc


def _umount(point: str) -> None:
    try:
        _run(["umount", point])
    except ChrootError:
        log.warning("umount %s busy, detaching it lazily", point)
        _run(["umount", "-l", point])
