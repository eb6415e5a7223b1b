"""Files faxcore keeps: private by default, written whole, never through a planted link.

faxcore's processes run with umask 077 (``private_umask``, set by the
``faxcore`` command): what they create is 0600 (files) and 0700 (folders),
so the database, received faxes, voicemail, spool files and secrets are the
service user's only. Asterisk, another user, reads only what it must, through
the group of the folder it reads (make that folder's group Asterisk's):
its rendered configuration, the greetings and messages published in
``voicemail.sounds_dir`` and the MWI markers in ``voicemail.mwi_spool_dir``
(files 0640, folders 0750, see ``share_with_folder_group``).

``write_atomic`` writes through a temporary file with a random name created
exclusively in the target folder (``tempfile.mkstemp``: O_CREAT|O_EXCL, so a
symlink planted there is never followed), fsynced, then renamed over the
target; a folder others can write to is refused (``check_folder``).

``fsync_path`` and ``make_durable`` make a file that must survive a crash
durable: its content, then its folder's entry for it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from faxcore.storage.errors import UnsafeFolder

PRIVATE_UMASK = 0o077
SHARED_FILE_MODE = 0o640
SHARED_DIR_MODE = 0o750


def private_umask() -> None:
    """Files and folders this process creates are its user's only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (created, or tightened to 0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)
    return path


def check_folder(folder: Path) -> None:
    """Refuse a folder every user may write to: they could replace what faxcore writes."""
    mode = folder.stat().st_mode
    if mode & stat.S_IWOTH:
        raise UnsafeFolder(
            f"{folder} is writable by every user (mode {stat.S_IMODE(mode):04o}): another "
            f"user could replace the files faxcore writes there; chmod o-w {folder} or "
            "choose another folder")


def write_atomic(path: Path, data: bytes, mode: int = 0o600, group: int | None = None) -> None:
    """Write ``path`` whole or not at all, with ``mode`` (and ``group``) from the start."""
    check_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            if group is not None:
                os.fchown(out.fileno(), -1, group)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_path(path: Path) -> None:
    """Flush what the kernel holds of ``path`` (a file or a folder) to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename or creation in ``folder`` survive a crash."""
    fsync_path(folder)


def make_durable(path: Path) -> None:
    """Flush the file ``path`` and then its folder's entry for it."""
    fsync_path(path)
    fsync_path(path.parent)


def share_with_folder_group(path: Path, folder: Path) -> None:
    """Let the group of ``folder`` (Asterisk's) read ``path``, created private."""
    group = folder.stat().st_gid
    os.chown(path, -1, group)
    path.chmod(SHARED_DIR_MODE if path.is_dir() else SHARED_FILE_MODE)
