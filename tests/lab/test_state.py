"""Is the lab's Asterisk still there? Process and control-socket checks, without a lab."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from faxcore.lab.instance import _accepts
from faxcore.lab.state import pid_alive

# The main thread ends (a zombie in /proc) while another thread runs on, as a
# SIGKILLed Asterisk looks while its other threads still exit.
MAIN_THREAD_GONE = ("import ctypes, threading, time; "
                    "threading.Thread(target=time.sleep, args=(30,)).start(); "
                    "ctypes.CDLL(None).pthread_exit(None)")


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def test_a_process_whose_main_thread_is_a_zombie_is_alive_while_a_thread_runs() -> None:
    proc = subprocess.Popen([sys.executable, "-c", MAIN_THREAD_GONE])
    try:
        deadline = time.monotonic() + 10
        while _state(proc.pid) != "Z":
            assert time.monotonic() < deadline, "the main thread never ended"
            time.sleep(0.05)
        assert pid_alive(proc.pid)
        proc.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(proc.pid):  # every thread gone: only the zombie is left
            assert time.monotonic() < deadline, "still alive 10 s after SIGKILL"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()


def test_a_control_socket_answers_only_while_someone_listens(tmp_path: Path) -> None:
    path = tmp_path / "asterisk.ctl"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    assert _accepts(path)
    listener.close()
    assert not _accepts(path)  # the file is left behind, as a killed Asterisk leaves it
