"""pytest plugin: the real Asterisk lab (PBX + ATA in the sid chroot) for tests.

Registered in ``tests/conftest.py`` with ``pytest_plugins``. The lab runs on
its own ports and its own chroot copy (``/var/cache/faxcore/lab-tests``) so a
developer's ``faxcore lab up`` (default ports, default cache) keeps running
while the suite does. The chroot is copied from the default cache when that
one is built (seconds) and built with debootstrap otherwise (about a minute).
Fixtures are synchronous (``asyncio.run``): the lab keeps no event-loop state,
so any test, async or not, can use them.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from faxcore.asterisk.credentials import secret_path
from faxcore.config import FaxcoreConfig, load_config
from faxcore.lab.chroot import LabChroot
from faxcore.lab.errors import LabError, LabNotRunning
from faxcore.lab.lab import Lab
from faxcore.lab.settings import with_lab
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.storage.models import Line
from tests.conftest import unavailable


def _lab_slot(environ: Mapping[str, str]) -> int:
    """This process's lab slot: the run's first slot plus its pytest-xdist worker number.

    FAXCORE_TEST_LAB_SLOT (default 0) is the first slot of a run, so several
    checkouts on one host can run lab tests at once on disjoint slots; worker
    ``gwN`` of ``pytest -n`` takes slot ``first + N``. A slot is a chroot copy
    and a set of ports (PBX SIP 25060 + 1000 n, ATA SIP 25070 + 1000 n, carrier
    SIP 25080 + 1000 n, ARI 28088 + 10 n), so each worker runs its own lab.
    """
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    return int(environ.get("FAXCORE_TEST_LAB_SLOT", "0")) + index


LAB_SLOT = _lab_slot(os.environ)
TEST_CACHE_DIR = "/var/cache/faxcore/lab-tests" + (f"-{LAB_SLOT}" if LAB_SLOT else "")
SHARED_CACHE_DIR = "/var/cache/faxcore/lab"
# Where a lab test whose ARI request got no answer leaves the PBX's backtrace,
# and a failed lab test the Asterisk logs written while it ran.
EVIDENCE_DIR = Path("/var/tmp/faxcore-test-evidence") / f"slot-{LAB_SLOT}"
LAB_LINE = "+33972100001"
LAB_LINE_SIP_PASSWORD = "Lab-line-42x"
LAB_ARI_PORT = 28088 + 10 * LAB_SLOT
LAB_PORTS = {
    "FAXCORE_LAB_PBX_SIP_PORT": str(25060 + 1000 * LAB_SLOT),
    "FAXCORE_LAB_ATA_SIP_PORT": str(25070 + 1000 * LAB_SLOT),
    "FAXCORE_LAB_ARI_PORT": str(LAB_ARI_PORT),
    "FAXCORE_LAB_ATA_ARI_PORT": str(LAB_ARI_PORT + 1),
    "FAXCORE_LAB_CARRIER_SIP_PORT": str(25080 + 1000 * LAB_SLOT),
}


def lab_environ(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """Environment of a test lab configuration rooted at ``data_dir``."""
    database = {"FAXCORE_DATABASE_URL": database_url} if database_url else {}
    return {"FAXCORE_DATA_DIR": str(data_dir), "FAXCORE_LAB_CACHE_DIR": TEST_CACHE_DIR,
            **LAB_PORTS, "FAXCORE_ASTERISK_ARI_URL": f"http://127.0.0.1:{LAB_ARI_PORT}",
            **database}


def seed_chroot(config: FaxcoreConfig) -> None:
    """Copy the default cache's chroot into the test cache (no debootstrap when one exists)."""
    mine = LabChroot(config)
    if mine.built:
        return
    shared = LabChroot(with_lab(config, cache_dir=SHARED_CACHE_DIR))
    if not shared.built or shared.mounts():
        return  # Lab.up() builds it with debootstrap
    mine.path.parent.mkdir(parents=True, exist_ok=True)
    work = mine.path.with_name(mine.path.name + ".copy")
    shutil.rmtree(work, ignore_errors=True)
    try:
        subprocess.run(["cp", "-a", "--one-file-system", str(shared.path), str(work)],
                       check=True, capture_output=True, timeout=300)
        for inside in ("etc/faxcore-lab", "var/lib/faxcore-lab", "run/faxcore-lab"):
            shutil.rmtree(work / inside, ignore_errors=True)
        work.rename(mine.path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def require_root() -> None:
    """The lab needs chroot and mount: skip (fail in CI) when not root."""
    if os.geteuid() != 0:
        unavailable("the Asterisk lab needs root (chroot, mount)")


@pytest.fixture(scope="session")
def lab_config(tmp_path_factory: pytest.TempPathFactory) -> FaxcoreConfig:
    """A configuration for the test lab: SQLite in a temp data dir, lab ports 25060/25070/28088."""
    require_root()
    config = load_config(environ=lab_environ(tmp_path_factory.mktemp("lab") / "data"))
    asyncio.run(upgrade(config.database_url))
    return config


async def _add_line(config: FaxcoreConfig, number: str, password: str) -> None:
    async with Database(config.database_url) as db:
        await LineService(db).add(number, password)


@pytest.fixture(scope="session")
def lab(lab_config: FaxcoreConfig) -> Iterator[Lab]:
    """The running lab with the ATA registered as ``LAB_LINE`` (made with the line service)."""
    Path(TEST_CACHE_DIR).mkdir(parents=True, exist_ok=True)
    with (Path(TEST_CACHE_DIR) / ".session.lock").open("w") as lock:
        # One test lab at a time on this host (same chroot, same ports): a
        # second pytest run waits here for the first one to finish.
        fcntl.flock(lock, fcntl.LOCK_EX)
        the_lab = Lab(lab_config)
        # We hold the lock, so anything still running in the tests' chroot is
        # left over from an interrupted run: down() stops it and unmounts.
        asyncio.run(the_lab.down())
        seed_chroot(lab_config)
        asyncio.run(_add_line(lab_config, LAB_LINE, LAB_LINE_SIP_PASSWORD))
        try:
            asyncio.run(the_lab.up(line=LAB_LINE))
            yield the_lab
        finally:
            asyncio.run(the_lab.down())


@pytest.fixture(params=["sqlite", "postgresql"])
def lab_database(request: pytest.FixtureRequest, lab: Lab,
                 lab_config: FaxcoreConfig) -> FaxcoreConfig:
    """The running lab's configuration on SQLite, then on the real PostgreSQL.

    The PostgreSQL variant has a fresh database holding the lab line with the
    same SIP credentials (the PBX's configuration does not change) and its own
    data folder, which shares only the lab's state with the SQLite one.
    """
    if request.param == "sqlite":
        return lab_config
    url = str(request.getfixturevalue("pg_url"))
    data_dir = Path(request.getfixturevalue("tmp_path")) / "data"
    data_dir.mkdir()
    (data_dir / "lab").symlink_to(Path(lab_config.data_dir) / "lab")
    config = replace(lab_config, data_dir=data_dir,
                     database=replace(lab_config.database, url=url))
    # The PBX was rendered with the lab's generated ARI password.
    secret_path(config).symlink_to(secret_path(lab_config))
    asyncio.run(upgrade(url))
    asyncio.run(_add_line(config, LAB_LINE, LAB_LINE_SIP_PASSWORD))
    return config


async def _line_settings(config: FaxcoreConfig) -> dict[str, object]:
    async with Database(config.database_url) as db, db.session(read_only=True) as session:
        row = (await session.execute(
            select(Line.__table__).where(Line.number == LAB_LINE))).mappings().one()
    return dict(row)


async def _restore_line_settings(config: FaxcoreConfig, settings: dict[str, object]) -> None:
    async with Database(config.database_url) as db, db.session() as session:
        await session.execute(update(Line.__table__).where(Line.number == LAB_LINE)
                              .values(**settings))


@pytest.fixture(autouse=True)
def lab_line_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a lab test changes on the lab line (language, mode, mail format ...)
    is undone after it, so no test depends on which lab test ran before it.

    (A French voicemail test once measured the English greeting a fax-to-mail
    test had left on the line: 1.56 s more message.)
    """
    if "lab" not in request.fixturenames:
        yield
        return
    config: FaxcoreConfig = request.getfixturevalue("lab_config")
    settings = asyncio.run(_line_settings(config))
    try:
        yield
    finally:
        try:
            asyncio.run(_restore_line_settings(config, settings))
        except OperationalError as exc:
            # Met once in CI: the lab database stayed write-locked across two
            # tests. Name whoever holds it, for the next occurrence.
            raise AssertionError(f"the lab database is locked after {request.node.name}; "
                                 f"open by {_holders(config)}") from exc


def _holders(config: FaxcoreConfig) -> str:
    """The processes (pid, command, thread names) that have the SQLite lab database open."""
    database = str(Path(config.data_dir) / "faxcore.db")
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        if any(_link(fd).startswith(database) for fd in _entries(fd_dir)):
            pid = fd_dir.parent.name
            try:
                command = (fd_dir.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace").strip()
                threads = sorted({(t / "comm").read_text().strip()
                                  for t in _entries(fd_dir.parent / "task")})
            except OSError:
                continue  # ended meanwhile
            found.append(f"pid {pid} ({command[:120]}; threads {', '.join(threads)})")
    return "; ".join(found) or "no process"


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # the process ended meanwhile
        return []


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:  # closed meanwhile (the listing's own descriptor, for one)
        return ""


# A failed test's report, read by the fixtures that keep its evidence.
FAILED_PHASES = pytest.StashKey[set[str]]()
# What a failed test keeps of each Asterisk's messages.log: its last bytes.
KEPT_LOG_BYTES = 4 * 1024 * 1024


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Remember which phases of a test failed, for its evidence fixtures' teardown."""
    report: pytest.TestReport = yield
    if report.failed:
        item.stash.setdefault(FAILED_PHASES, set()).add(report.when)
    return report


@pytest.fixture(autouse=True)
def lab_logs_kept_when_failed(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed lab test leaves what the PBX, the ATA and the carrier logged while
    it ran in ``EVIDENCE_DIR`` (the lab's logs are emptied at the next start, and
    CI's temp folders are gone with the machine)."""
    if "lab" not in request.fixturenames:
        yield
        return
    lab: Lab = request.getfixturevalue("lab")
    instances = (lab.pbx, lab.ata, lab.carrier)
    logs = [inst.chroot.host_path(f"{inst.log_dir}/messages.log") for inst in instances]
    starts = [log.stat().st_size if log.exists() else 0 for log in logs]
    yield
    if not request.node.stash.get(FAILED_PHASES, set()):
        return
    EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
    kept = []
    for inst, log, start in zip(instances, logs, starts, strict=True):
        if not log.exists():
            continue
        with log.open("rb") as source:
            source.seek(max(start, log.stat().st_size - KEPT_LOG_BYTES))
            path = EVIDENCE_DIR / f"{_file_name(request.node.name)}-{inst.name}-messages.log"
            path.write_bytes(source.read())
        kept.append(str(path))
    request.node.add_report_section("teardown", "lab logs", "kept in " + ", ".join(kept))


def _file_name(test_name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in test_name)


@pytest.fixture(autouse=True)
def pbx_backtrace_when_ari_stalls(request: pytest.FixtureRequest,
                                  caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A lab test during which an ARI request got no answer leaves the PBX's
    backtrace in ``EVIDENCE_DIR`` and in its report (issue 21): the stall is
    diagnosed from the run that met it, not from a reproduction."""
    yield
    if "lab" not in request.fixturenames:
        return
    stalls = [r.getMessage() for when in ("setup", "call", "teardown")
              for r in caplog.get_records(when)  # type: ignore[arg-type]
              if r.name == "faxcore.ari.client" and "got no answer" in r.getMessage()]
    if not stalls:
        return
    lab: Lab = request.getfixturevalue("lab")
    try:
        trace = asyncio.run(lab.pbx_backtrace())
    except LabError as exc:
        trace = f"no backtrace: {exc}"
    EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
    path = EVIDENCE_DIR / f"{_file_name(request.node.name)}-pbx-backtrace.txt"
    path.write_text("\n".join(stalls) + "\n\n" + trace)
    request.node.add_report_section(
        "teardown", "PBX backtrace", f"ARI stalled; kept in {path}\n" + trace)


@pytest.fixture(autouse=True)
def lab_running_before_each_test(request: pytest.FixtureRequest) -> None:
    """A lab test that killed Asterisk and failed before bringing it back must
    cost that test only: the next one finds the lab up again (checked from the
    state file and /proc, so a running lab costs nothing)."""
    if "lab" not in request.fixturenames:
        return
    lab: Lab = request.getfixturevalue("lab")
    try:
        lab.require_running()
    except LabNotRunning:
        asyncio.run(lab.up(line=LAB_LINE))
