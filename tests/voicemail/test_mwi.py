"""MWI marker files (V9): app_voicemail counts msgNNNN.txt in INBOX (new) and Old."""

import os
import stat
from pathlib import Path

from faxcore.voicemail.mwi import mirror_counts


def _count(folder: Path) -> int:
    return len(list(folder.glob("msg*.txt")))


def test_markers_follow_the_counts_both_ways(tmp_path: Path) -> None:
    box = tmp_path / "faxcore" / "33972100001"
    mirror_counts(tmp_path, "+33972100001", new=3, old=1)
    assert (_count(box / "INBOX"), _count(box / "Old")) == (3, 1)
    mirror_counts(tmp_path, "+33972100001", new=0, old=2)
    assert (_count(box / "INBOX"), _count(box / "Old")) == (0, 2)
    assert sorted(p.name for p in (box / "Old").iterdir()) == ["msg0000.txt", "msg0001.txt"]


def test_markers_are_readable_by_the_spool_group_only(tmp_path: Path) -> None:
    os.umask(0o077)
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o750)
    mirror_counts(spool, "+33123456789", 1, 0)
    inbox = spool / "faxcore" / "33123456789" / "INBOX"
    assert stat.S_IMODE(inbox.stat().st_mode) == 0o750
    assert stat.S_IMODE((inbox / "msg0000.txt").stat().st_mode) == 0o640
