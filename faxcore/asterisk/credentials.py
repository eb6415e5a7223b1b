"""The ARI password: never a value shipped with faxcore.

A password printed in the repository is known to everyone, and ARI controls
every call. Unless ``asterisk.ari_password`` is set, faxcore generates one
the first time it is needed (``asterisk render``, ``serve``, the lab) and
keeps it in ``<data_dir>/ari-password`` (0600); the rendered ``ari.conf``
holds only its crypt hash. The password faxcore shipped before is refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from faxcore.config import FaxcoreConfig
from faxcore.errors import ConfigError
from faxcore.storage.files import fsync_dir, private_dir

# Shipped as the default until faxcore generated its own: public, so refused.
FORMER_DEFAULT = "faxcore-ari-secret"
SECRET_FILE = "ari-password"


def secret_path(config: FaxcoreConfig) -> Path:
    """Where the generated ARI password is kept."""
    return config.data_dir / SECRET_FILE


def ari_password(config: FaxcoreConfig) -> str:
    """The configured ARI password, or the generated one (made on first use)."""
    configured = config.asterisk.ari_password
    if configured == FORMER_DEFAULT:
        raise ConfigError(
            f"asterisk.ari_password is {FORMER_DEFAULT!r}, the password faxcore once shipped "
            "and everyone knows: remove the key (faxcore then generates one in "
            f"{secret_path(config)}) or set a password of your own")
    if configured:
        return configured
    path = secret_path(config)
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    return _create(path)


def _read(path: Path) -> str:
    password = path.read_text().strip()
    if not password:
        raise ConfigError(f"{path} is empty: delete it to have a new ARI password generated")
    return password


def _create(path: Path) -> str:
    """Write a new password; a process that raced us and won keeps its own."""
    folder = private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(secrets.token_urlsafe(24) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # never replaces a password already in use
    finally:
        os.unlink(tmp)
    fsync_dir(folder)
    return _read(path)
