"""Every prompt the answering machine names exists in the lab's Asterisk, in French and English."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import faxcore.voicemail
from faxcore.lab.lab import Lab

pytestmark = [pytest.mark.lab]

# Literal sound names in the package's source: prompts are named there and
# nowhere else (digits/day-N and digits/mon-N are built from numbers).
SOUND_NAME = re.compile(r'"((?:vm-|beep)[A-Za-z0-9_-]*)"')


def prompt_names() -> set[str]:
    package = Path(faxcore.voicemail.__file__).parent
    names = {m for source in package.glob("*.py")
             for m in SOUND_NAME.findall(source.read_text())}
    return names | {f"digits/day-{d}" for d in range(7)} | {
        f"digits/mon-{m}" for m in range(12)}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_voicemail_prompt_exists_in_the_lab_asterisk(lab: Lab, language: str) -> None:
    names = sorted(prompt_names())
    assert len(names) > 40 and "vm-intro" in names and "vm-rec-unv" in names
    script = " ".join(
        f'ls /usr/share/asterisk/sounds/{language}/{name}.* >/dev/null 2>&1 || echo {name};'
        for name in names)
    missing = subprocess.run(["chroot", str(lab.chroot.path), "sh", "-c", script],
                             capture_output=True, text=True, check=True).stdout.split()
    assert missing == []
