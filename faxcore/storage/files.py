"""Files that must survive a crash: their data and their folder entry on disk.

A file is durable once its content is flushed (``fsync`` of the file) and its
name is (``fsync`` of the folder that holds it): after a power cut or a
SIGKILL followed by a crash, the file is either there whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush what the kernel holds of ``path`` (a file or a folder) to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_durable(path: Path) -> None:
    """Flush the file ``path`` and then its folder's entry for it."""
    fsync_path(path)
    fsync_path(path.parent)
