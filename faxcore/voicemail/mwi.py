"""MWI (V9) through Asterisk's app_voicemail polling: mirror a mailbox's counts as files.

Debian's Asterisk ships neither ``res_mwi_external`` nor ARI's ``/mailboxes``
resource, and ARI cannot send a SIP NOTIFY. What it has is app_voicemail,
which polls its spool and publishes message-waiting state to the line's
endpoint (``mailboxes=<line>@faxcore``): a file ``msgNNNN.txt`` counts as one
message in ``INBOX`` (new) or ``Old``. faxcore keeps the messages; this
module only keeps as many empty marker files as there are messages.
"""

from __future__ import annotations

from pathlib import Path

from faxcore.storage.files import share_with_folder_group

MWI_CONTEXT = "faxcore"


def mirror_counts(spool: Path, number: str, new: int, old: int) -> None:
    """Make ``INBOX`` hold ``new`` and ``Old`` hold ``old`` marker files (idempotent)."""
    box = spool / MWI_CONTEXT / number.lstrip("+")
    for folder, count in (("INBOX", new), ("Old", old)):
        directory = box / folder
        for made in (spool, box.parent, box, directory):
            if not made.is_dir():
                made.mkdir(parents=True)
                share_with_folder_group(made, made.parent)
        for index in range(count):
            marker = directory / f"msg{index:04d}.txt"
            if not marker.exists():
                marker.write_text("; faxcore MWI marker\n")
                share_with_folder_group(marker, spool)
        for stale in directory.glob("msg*.txt"):
            suffix = stale.stem[3:]
            if not suffix.isdigit() or int(suffix) >= count:
                stale.unlink(missing_ok=True)
