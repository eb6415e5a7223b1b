"""Hostile documents against the real converters: refused fast, bounded, never outliving faxcore.

The attacker is whoever may send a document (a subscriber on the CLI, the web
portal or the e-mail gateway). Each test uses real Ghostscript, LibreOffice or
zipfile, and a document an attacker can write in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from faxcore.documents import (
    ConversionError,
    DocumentLimits,
    DocumentTooLargeError,
    Quality,
    UnsupportedDocumentError,
    convert_to_fax,
)
from faxcore.documents.detect import detect

LOOP_PS = b"%!PS\n{ showpage } loop\n"
MB = 1024 * 1024


def _processes_running(needle: str) -> list[int]:
    """Live (not zombie) processes whose command line mentions ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


class _DiskPeak:
    """Samples the bytes under a folder every 50 ms; ``peak`` is the largest seen."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for root, _, files in os.walk(self.folder):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(root, name)).st_size
                    except FileNotFoundError:
                        continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> _DiskPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder conversions put their temporary folder in; must be empty afterwards."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


async def test_postscript_page_loop_is_refused_within_seconds(
        tmp_path: Path, scratch: Path) -> None:
    loop = tmp_path / "loop.ps"
    loop.write_bytes(LOOP_PS)
    start = time.monotonic()
    with pytest.raises(DocumentTooLargeError) as info:
        await convert_to_fax([loop], tmp_path / "o.tif", quality=Quality.HIGH,
                             limits=DocumentLimits(max_pages=20, tool_timeout=60))
    elapsed = time.monotonic() - start
    assert str(info.value) == (
        "loop.ps: too many pages: the fax would have more than 20 pages, at most 20 are "
        "allowed")
    assert elapsed < 15, elapsed
    assert not _processes_running(str(loop))


async def test_postscript_page_loop_at_best_quality_writes_at_most_the_page_limit(
        tmp_path: Path, scratch: Path) -> None:
    """Best quality writes 8 MB gray pages: the disk used stays near max_pages of them."""
    loop = tmp_path / "loop.ps"
    loop.write_bytes(LOOP_PS)
    start = time.monotonic()
    with _DiskPeak(scratch) as disk, pytest.raises(DocumentTooLargeError, match="too many"):
        await convert_to_fax([loop], tmp_path / "o.tif", quality=Quality.BEST,
                             limits=DocumentLimits(max_pages=10, tool_timeout=60))
    assert time.monotonic() - start < 15
    page = 1728 * 4573  # one A4 page of 8-bit gray at 204x391 dpi
    assert disk.peak <= 11 * page + MB, disk.peak


async def test_work_space_limit_stops_the_converter(tmp_path: Path, scratch: Path) -> None:
    loop = tmp_path / "loop.ps"
    loop.write_bytes(LOOP_PS)
    with pytest.raises(DocumentTooLargeError) as info:
        await convert_to_fax([loop], tmp_path / "o.tif", quality=Quality.BEST,
                             limits=DocumentLimits(max_pages=100, work_mb=20))
    assert str(info.value) == (
        "loop.ps: the conversion needs more than the 20 MB of work space allowed")


async def test_converter_memory_limit_is_enforced(tmp_path: Path, scratch: Path) -> None:
    """A PostScript program that allocates without end fails at the address-space cap."""
    hog = tmp_path / "hog.ps"
    hog.write_bytes(b"%!PS\n/d 100000 dict def 0 1 99999 { d exch 60000 array put } for "
                    b"showpage\n")  # about 96 GB of arrays
    start = time.monotonic()
    with pytest.raises(ConversionError) as info:
        await convert_to_fax([hog], tmp_path / "o.tif", quality=Quality.HIGH,
                             limits=DocumentLimits(tool_memory_mb=256, tool_timeout=60))
    assert str(info.value) == (
        "hog.ps: the conversion needed more than the allowed 256 MB of memory, and was stopped")
    assert time.monotonic() - start < 30
    assert not _processes_running(str(hog))


_CHILD = """
import asyncio, sys
from pathlib import Path
from faxcore.documents import DocumentLimits, Quality, convert_to_fax
asyncio.run(convert_to_fax([Path(sys.argv[1])], Path(sys.argv[2]), quality=Quality.HIGH,
                           limits=DocumentLimits(max_pages=10**6, tool_timeout=600)))
"""


def test_ghostscript_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    loop = tmp_path / "dies-with-parent.ps"
    loop.write_bytes(LOOP_PS)
    parent = subprocess.Popen([sys.executable, "-c", _CHILD, str(loop), str(tmp_path / "o.tif")],
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not any("gs" in Path(f"/proc/{pid}/comm").read_text()
                      for pid in _processes_running(str(loop))
                      if Path(f"/proc/{pid}/comm").exists()):
            assert time.monotonic() < deadline, "gs never started"
            assert parent.poll() is None
            time.sleep(0.1)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 5
    while _processes_running(str(loop)):
        assert time.monotonic() < deadline, _processes_running(str(loop))
        time.sleep(0.1)


def _bomb(path: Path, member: str, megabytes: int) -> Path:
    """A zip whose ``member`` unpacks to ``megabytes`` of zeros (about 1/1000 packed)."""
    block = bytes(MB)
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open(member, "w", force_zip64=False) as out):
        for _ in range(megabytes):
            out.write(block)
    return path


def test_zip_bomb_is_looked_at_with_bounded_memory(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.odt", "mimetype", 200)
    assert bomb.stat().st_size < 400 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedDocumentError, match="not a document that can be faxed"):
            detect(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * MB, peak


async def test_office_file_unpacking_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.docx", "word/document.xml", 120)
    start = time.monotonic()
    with pytest.raises(DocumentTooLargeError) as info:
        await convert_to_fax([bomb], tmp_path / "o.tif", quality=Quality.HIGH,
                             limits=DocumentLimits(max_unpacked_mb=100))
    assert str(info.value) == "bomb.docx: the document unpacks to 120 MB, more than the 100 MB " \
                              "allowed"
    assert time.monotonic() - start < 2


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_image_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    """100 MP passes Pillow's own bomb check (179 MP) but would be decoded in faxcore."""
    big = tmp_path / "big.png"
    Image.new("1", (10000, 10000), 1).save(big)
    start = time.monotonic()
    with pytest.raises(DocumentTooLargeError) as info:
        await convert_to_fax([big], tmp_path / "o.tif", quality=Quality.HIGH)
    assert str(info.value) == (
        "big.png: the image has 10000x10000 pixels, more than the 60 million a fax image may "
        "have")
    assert time.monotonic() - start < 2
