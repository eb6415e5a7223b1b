"""``faxcore serve`` as a process: JSON logs, retries while Asterisk is away, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

FAXCORE = Path(sys.executable).with_name("faxcore")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_retries_with_json_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FAXCORE_CONFIG": "/dev/null",
        "FAXCORE_DATA_DIR": str(tmp_path),
        # Nothing listens there: serve must keep retrying, not exit.
        "FAXCORE_ASTERISK_ARI_URL": f"http://127.0.0.1:{free_port()}",
    }
    proc = subprocess.Popen([str(FAXCORE), "serve", "--json-logs"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Startup (imports) takes seconds on a loaded machine: SIGTERM only once
        # serve has migrated, i.e. after its signal handlers are installed.
        deadline = time.monotonic() + 60
        while not (tmp_path / "faxcore.db").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(3.0)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [r["message"] for r in records]
    assert sum("retrying in" in m for m in messages) >= 2, messages
    assert messages[-1] == "faxcore serve stopped"
    assert (tmp_path / "faxcore.db").exists()  # migrated before connecting


def test_serve_with_a_broken_configuration_fails_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "FAXCORE_CONFIG": "/dev/null", "FAXCORE_DATA_DIR": str(tmp_path),
           "FAXCORE_DATABASE_URL": "mysql://nope"}
    proc = subprocess.run([str(FAXCORE), "serve"], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "faxcore: error: database.url: unsupported database 'mysql' (sqlite or postgresql)")
