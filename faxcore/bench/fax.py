"""``faxcore bench fax``: FaxSession through the ctypes binding against the same loop in C.

Both sides fax the same synthetic N-page document back to back over audio,
160 samples at a time, with the same T.30 options.  The C loop
(``fax_loop.c``, shipped in this package) is compiled with gcc against the
installed libspandsp into a temporary directory that is removed afterwards.
Each side runs ``repeat`` times; the best CPU time counts (the least
disturbed run).  The last line printed is::

    RESULT binding_vs_c=<C time / Python time> python_x_realtime=<x> c_x_realtime=<x> pages=<n>
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click
from PIL import Image, ImageChops

from faxcore import bench
from faxcore.bench import BenchError
from faxcore.cli.common import emit, handles_errors, json_option
from faxcore.fax import Direction, FaxSession, FaxSessionOptions, Resolution, SessionWire
from faxcore.fax.loopback import transfer, write_synthetic_document

SENDER_ID = "+33 1 23 45 67 89"  # same idents as fax_loop.c
RECEIVER_ID = "+33 9 87 65 43 21"
MAX_SECONDS = 3600.0
_C_LINE = re.compile(
    r"cpu_seconds=(?P<cpu>[\d.]+) modem_seconds=(?P<modem>[\d.]+) "
    r"tx_result=(?P<tx>-?\d+) rx_result=(?P<rx>-?\d+) pages=(?P<pages>\d+) "
    r"bit_rate=(?P<bit_rate>\d+)"
)
RESULT_KEYS = ("binding_vs_c", "python_x_realtime", "c_x_realtime", "pages")


@dataclass(frozen=True, slots=True)
class Run:
    """One back-to-back fax: CPU seconds spent and modem (simulated) seconds covered."""

    cpu_seconds: float
    modem_seconds: float
    pages: int
    bit_rate: int


@dataclass(frozen=True, slots=True)
class FaxBenchResult:
    """Best runs of both sides and the derived figures."""

    pages: int
    ecm: bool
    resolution: str
    repeat: int
    python: Run
    c: Run

    @property
    def binding_vs_c(self) -> float:
        """C time / Python time: 1.0 means the binding is as fast as C."""
        return self.c.cpu_seconds / self.python.cpu_seconds

    @property
    def python_x_realtime(self) -> float:
        return self.python.modem_seconds / self.python.cpu_seconds

    @property
    def c_x_realtime(self) -> float:
        return self.c.modem_seconds / self.c.cpu_seconds

    def result_line(self) -> str:
        return (
            f"RESULT binding_vs_c={self.binding_vs_c:.3f} "
            f"python_x_realtime={self.python_x_realtime:.0f} "
            f"c_x_realtime={self.c_x_realtime:.0f} pages={self.pages}"
        )


def parse_result_line(line: str) -> dict[str, float]:
    """Read back the figures of a ``RESULT`` line (for tests and dashboards)."""
    return bench.parse_result_line(line, RESULT_KEYS, "fax")


def compile_c_loop(workdir: Path) -> Path:
    """Compile ``fax_loop.c`` against libspandsp into ``workdir``; return the program."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise BenchError("gcc not found: install build-essential to run the C baseline")
    source = workdir / "fax_loop.c"
    source.write_text(resources.files("faxcore.bench").joinpath("fax_loop.c").read_text())
    program = workdir / "fax_loop"
    command = [gcc, "-O2", "-o", str(program), str(source), "-lspandsp", "-ltiff", "-lm"]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"compiling the C baseline failed: {exc.stderr.strip()}") from exc
    return program


def run_c(program: Path, document: Path, received: Path, ecm: bool) -> Run:
    """One run of the C loop."""
    command = [str(program), str(document), str(received), str(int(ecm)), str(MAX_SECONDS)]
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise BenchError(
            f"C baseline fax failed ({exc.returncode}): {exc.stdout.strip()} {exc.stderr.strip()}"
        ) from exc
    match = _C_LINE.search(done.stdout)
    if match is None:
        raise BenchError(f"unexpected C baseline output: {done.stdout!r}")
    return Run(
        cpu_seconds=float(match["cpu"]),
        modem_seconds=float(match["modem"]),
        pages=int(match["pages"]),
        bit_rate=int(match["bit_rate"]),
    )


def run_python(document: Path, received: Path, ecm: bool) -> Run:
    """One run of the same fax through two FaxSessions (the timed hot path)."""
    start = time.process_time()
    sender = FaxSession(
        FaxSessionOptions(
            Direction.SEND, SessionWire.AUDIO, document, local_ident=SENDER_ID, ecm=ecm
        ),
        now=0.0,
    )
    receiver = FaxSession(
        FaxSessionOptions(
            Direction.RECEIVE, SessionWire.AUDIO, received, local_ident=RECEIVER_ID, ecm=ecm
        ),
        now=0.0,
    )
    with sender, receiver:
        end = transfer(sender, receiver, max_seconds=MAX_SECONDS)
    cpu = time.process_time() - start
    result = receiver.result
    if result is None or not result.success or sender.result is None or not sender.result.success:
        raise BenchError(f"Python fax failed: {sender.result} / {result}")
    return Run(cpu_seconds=cpu, modem_seconds=end, pages=result.pages, bit_rate=result.bit_rate)


def _same_pages(first: Path, second: Path) -> bool:
    with Image.open(first) as a, Image.open(second) as b:
        frames = int(getattr(a, "n_frames", 1))
        if frames != int(getattr(b, "n_frames", 1)):
            return False
        for index in range(frames):
            a.seek(index)
            b.seek(index)
            if ImageChops.difference(a.convert("1"), b.convert("1")).getbbox() is not None:
                return False
    return True


def run_benchmark(
    pages: int, repeat: int, ecm: bool = True, resolution: Resolution = Resolution.FINE
) -> FaxBenchResult:
    """Run both sides ``repeat`` times on one document and keep the best of each."""
    if pages < 1 or repeat < 1:
        raise BenchError("pages and repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="faxcore-bench-fax-") as tmp:
        workdir = Path(tmp)
        document = workdir / "document.tif"
        write_synthetic_document(document, pages, resolution)
        program = compile_c_loop(workdir)
        c_runs: list[Run] = []
        py_runs: list[Run] = []
        # Interleaved so that machine noise hits both sides alike.
        for _ in range(repeat):
            c_runs.append(run_c(program, document, workdir / "c.tif", ecm))
            py_runs.append(run_python(document, workdir / "py.tif", ecm))
        best_c = min(c_runs, key=lambda run: run.cpu_seconds)
        best_py = min(py_runs, key=lambda run: run.cpu_seconds)
        if best_c.pages != pages or best_py.pages != pages:
            raise BenchError(
                f"expected {pages} pages, C got {best_c.pages}, Python {best_py.pages}"
            )
        if not _same_pages(workdir / "c.tif", workdir / "py.tif"):
            raise BenchError("C and Python received different pages")
    return FaxBenchResult(
        pages=pages,
        ecm=ecm,
        resolution=resolution.value,
        repeat=repeat,
        python=best_py,
        c=best_c,
    )


@click.command(name="fax")
@click.option("--pages", default=5, show_default=True, help="Pages in the test document.")
@click.option("--repeat", default=15, show_default=True, help="Runs per side; the best counts.")
@click.option("--ecm/--no-ecm", default=True, show_default=True, help="Error correction mode.")
@click.option(
    "--resolution",
    type=click.Choice([r.value for r in Resolution]),
    default=Resolution.FINE.value,
    show_default=True,
)
@json_option
@handles_errors
def command(pages: int, repeat: int, ecm: bool, resolution: str, as_json: bool) -> None:
    """Back-to-back audio fax: ctypes binding + FaxSession vs the same loop in C."""
    result = run_benchmark(pages, repeat, ecm, Resolution(resolution))
    details = {
        "pages": result.pages,
        "ecm": result.ecm,
        "resolution": result.resolution,
        "repeat": result.repeat,
        "python": result.python,
        "c": result.c,
        "binding_vs_c": round(result.binding_vs_c, 3),
        "python_x_realtime": round(result.python_x_realtime),
        "c_x_realtime": round(result.c_x_realtime),
        "result": result.result_line(),
    }
    text = "\n".join(
        [
            f"document: {pages} page(s), {resolution}, ECM {'on' if ecm else 'off'}, "
            f"best of {repeat} runs per side",
            f"C      : {result.c.cpu_seconds * 1000:8.2f} ms CPU for "
            f"{result.c.modem_seconds:.1f} s of modem time at {result.c.bit_rate} bit/s",
            f"Python : {result.python.cpu_seconds * 1000:8.2f} ms CPU for "
            f"{result.python.modem_seconds:.1f} s of modem time at {result.python.bit_rate} bit/s",
            result.result_line(),
        ]
    )
    emit(details, text, as_json)
