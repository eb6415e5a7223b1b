"""Private files: modes from the start, temp names nobody can plant, shared folders refused."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from faxcore.storage.errors import UnsafeFolder
from faxcore.storage.files import write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_write_atomic_sets_the_mode_whatever_the_umask(tmp_path: Path) -> None:
    os.umask(0)
    target = tmp_path / "secret"
    write_atomic(target, b"x")
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_write_atomic_refuses_a_folder_every_user_may_write(tmp_path: Path) -> None:
    tmp_path.chmod(0o1777)
    with pytest.raises(UnsafeFolder, match="writable by every user"):
        write_atomic(tmp_path / "f", b"x")
    assert list(tmp_path.iterdir()) == []


def faxcore(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXCORE_")}
    env.update(FAXCORE_DATA_DIR=str(data), FAXCORE_LOG_LEVEL="WARNING")
    # The umask a login shell usually has: faxcore must not depend on it.
    return subprocess.run([sys.executable, "-c", "import os; os.umask(0o022); "
                           "from faxcore.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_line_add_leaves_the_data_dir_and_database_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = faxcore(data, "line", "add", "+33972101234", "--sip-password", "Secret-123456")
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert mode(data / "faxcore.db") == 0o600
    assert all(mode(p) & 0o077 == 0 for p in data.rglob("*"))


def test_an_open_data_dir_is_tightened_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    result = faxcore(data, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert mode(data / "faxcore.db") == 0o600
