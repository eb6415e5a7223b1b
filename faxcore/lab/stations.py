"""The lab stations' actions: send a fax, receive faxes, place a call; each waits for its outcome.

Two stations act alike: the ATA (the subscriber's fax machine or phone, calling
through its line) and the carrier (remote fax machines and phones of the
public network, calling the PBX's DIDs over its trunk).

How outcomes come back: every outgoing call is an Asterisk *call file*
dropped (atomically, by rename) into the ATA's ``spool/outgoing``; it carries
a unique ``FAXCORE_ID``. The station's dialplan appends ``KEY=VALUE`` lines to
``results/<id>.vars`` from a hangup handler (answered calls) or the call
file's ``failed`` extension (never answered), ending with ``DONE=1``. Python
only polls for that file: no network protocol to the ATA, no event stream to
filter, and the outcome is written by Asterisk itself with the real
FAXSTATUS/HANGUPCAUSE values. Incoming behaviour is kept in the station's astdb
(``faxcore/answer``, ``faxcore/rxopts``), read by its dialplan on each call.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from faxcore.config import FaxcoreConfig
from faxcore.lab.errors import AtaTimeout, LabError
from faxcore.lab.lab import Lab, Station
from faxcore.lab.state import write_state
from faxcore.lines.policy import normalize_number

FAX_MODES = ("t38", "g711")
# The number the carrier's calls present unless told otherwise (a Paris number).
REMOTE_NUMBER = "+33140000001"
ANSWER_MODES = ("on", "busy", "noanswer")
# MixMonitor closes (and renames) its recording a moment after the hang-up.
RECORDING_CLOSE_SECONDS = 10.0
# REASON of a call file's "failed" extension: the control frame that ended the attempt.
REASONS = {"0": "failed", "1": "hangup", "3": "no-answer", "5": "busy", "8": "congestion"}


@dataclass
class CallOutcome:
    """What happened to one ATA call, as the ATA's dialplan reported it."""

    id: str
    to: str
    answered: bool
    reason: str = ""
    hangup_cause: int | None = None
    duration: int | None = None
    fax: dict[str, str] = field(default_factory=dict)
    recording: str = ""
    elapsed: float = 0.0

    @property
    def fax_ok(self) -> bool:
        """True when the fax went through (FAXSTATUS=SUCCESS)."""
        return self.fax.get("FAXSTATUS") == "SUCCESS"


def parse_vars(text: str) -> dict[str, str] | None:
    """``KEY=VALUE|`` fields of a result file; None until its final ``DONE=1`` is written."""
    values: dict[str, str] = {}
    for line in text.split("|"):
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values if values.get("DONE") == "1" else None


def parse_fax_session(table: str, file_name: str) -> tuple[str, str] | None:
    """(channel, fax id) of the session whose file is ``file_name`` (``fax show sessions``)."""
    for row in table.splitlines():
        fields = row.split()
        if len(fields) >= 7 and fields[-1].endswith("/" + file_name):
            return fields[0], fields[2]
    return None


def fax_pages_sent(detail: str) -> int:
    """``Tx Pages`` of ``fax show session N`` (0 when absent)."""
    for row in detail.splitlines():
        key, sep, value = row.partition(":")
        if sep and key.strip() == "Tx Pages" and value.strip().isdigit():
            return int(value.strip())
    return 0


def outcome_from_vars(call_id: str, to: str, values: dict[str, str]) -> CallOutcome:
    """Build the typed outcome of a finished call from its result file values."""
    answered = values.get("ANSWERED") == "1"
    cause = values.get("HANGUPCAUSE", "")
    duration = values.get("DURATION", "")
    reason_code = values.get("REASON", "")
    fax = {k: v for k, v in values.items() if k.startswith("FAX") or k == "REMOTESTATIONID"}
    fax = {k: v for k, v in fax.items() if v and k != "FAXFILE"} | (
        {"FAXFILE": values["FAXFILE"]} if values.get("FAXFILE") else {}
    )
    return CallOutcome(
        id=call_id,
        to=to,
        answered=answered,
        reason="answered" if answered else REASONS.get(reason_code, f"reason {reason_code}"),
        # A call file's failed channel never carries the far end's cause (always 0).
        hangup_cause=int(cause) if cause.isdigit() and (answered or cause != "0") else None,
        duration=int(duration) if duration.lstrip("-").isdigit() else None,
        fax=fax,
    )


def _callfile(lines: dict[str, str], setvars: dict[str, str]) -> str:
    body = [f"{k}: {v}" for k, v in lines.items()]
    body += [f"Setvar: {k}={v}" for k, v in setvars.items()]
    return "\n".join(body) + "\n"


class LabStation:
    """A running station of the lab, driven through call files and its astdb."""

    station = Station.ATA
    # The caller id its calls present when none is given (None: its endpoint's).
    default_caller_id: str | None = None

    def __init__(self, config: FaxcoreConfig) -> None:
        self.config = config
        self.lab = Lab(config)
        self.state = self.lab.require_running(self.station)
        self.instance = self.lab.instance(self.station)

    def _host(self, inside: str) -> Path:
        return self.lab.chroot.host_path(inside)

    async def _originate(self, to: str, extension: str, setvars: dict[str, str],
                         ring_seconds: int, timeout: float,
                         caller_id: str | None = None, endpoint: str = "pbx") -> CallOutcome:
        """Drop a call file and wait for the result file it produces.

        ``endpoint`` is the station's endpoint to the PBX: ``pbx`` offers T.38,
        ``pbx-g711`` is the same device without T.38 (see its pjsip.conf).
        """
        number = normalize_number(to) if to.startswith("+") else to
        if not number or any(c not in "+0123456789*#" for c in number):
            raise LabError(f"invalid number to call: {to!r}")
        call_id = uuid.uuid4().hex
        result = self._host(f"{self.station.results_dir}/{call_id}.vars")
        header = {
            "Channel": f"PJSIP/{number}@{endpoint}",
            "MaxRetries": "0",
            "WaitTime": str(ring_seconds),
            "Context": "ata-out",
            "Extension": extension,
            "Priority": "1",
            "Archive": "no",
        }
        caller_id = caller_id or self.default_caller_id
        if caller_id is not None:
            header["CallerID"] = f'"{caller_id}" <{caller_id}>'
        content = _callfile(header, {"FAXCORE_ID": call_id, **setvars})
        outgoing = self._host(f"{self.instance.spool}/outgoing")
        staging = self._host(f"{self.instance.spool}/staging")
        staging.mkdir(parents=True, exist_ok=True)
        tmp = staging / f"{call_id}.call"
        tmp.write_text(content)
        started = time.monotonic()
        os.replace(tmp, outgoing / f"{call_id}.call")
        try:
            values = await self._wait_result(result, timeout)
        finally:
            result.unlink(missing_ok=True)
            (outgoing / f"{call_id}.call").unlink(missing_ok=True)
        outcome = outcome_from_vars(call_id, number, values)
        outcome.elapsed = round(time.monotonic() - started, 2)
        return outcome

    async def _wait_result(self, path: Path, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                values = parse_vars(path.read_text())
                if values is not None:
                    return values
            await asyncio.sleep(0.2)
        raise AtaTimeout(f"no outcome from the {self.station} after {timeout:.0f} s "
                         f"({path.name})")

    async def send_fax(self, to: str, document: Path, mode: str = "t38", station_id: str = "",
                       hangup_after_page: int | None = None,
                       timeout: float = 600.0, as_is: bool = False,
                       caller_id: str | None = None) -> CallOutcome:
        """Fax ``document`` from the station to ``to`` through the PBX; return the outcome.

        ``as_is`` sends ``document`` unconverted: a fax TIFF whose pages go out
        as they are (a page of any length, as a hostile sender would send it).
        """
        if mode not in FAX_MODES:
            raise LabError(f"fax mode must be one of {', '.join(FAX_MODES)}, not {mode!r}")
        tx_dir = self._host(self.station.tx_dir)
        tx_dir.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.tif"
        tiff = tx_dir / name
        try:
            if as_is:
                await asyncio.to_thread(shutil.copyfile, document, tiff)
            else:
                await to_fax_tiff(document, tiff)
            setvars = {
                "FAXCORE_FILE": f"{self.station.tx_dir}/{name}",
                "FAXCORE_FAXOPTS": "F" if mode == "g711" else "f",
                "FAXCORE_STATION_ID": station_id,
            }
            endpoint = "pbx-g711" if mode == "g711" else "pbx"
            if hangup_after_page is None:
                return await self._originate(to, "send-fax", setvars, 60, timeout, caller_id,
                                             endpoint)
            if hangup_after_page < 1:
                raise LabError("--hangup-after-page must be at least 1")
            async with asyncio.TaskGroup() as tg:
                call = tg.create_task(self._originate(to, "send-fax", setvars, 60, timeout,
                                                      caller_id, endpoint))
                tg.create_task(self._hang_up_after(name, hangup_after_page, call))
            return call.result()
        finally:
            tiff.unlink(missing_ok=True)

    async def _hang_up_after(self, file_name: str, pages: int,
                             call: asyncio.Task[CallOutcome]) -> None:
        """Hang the sending channel up once ``pages`` pages went out (a cut-off fax)."""
        while not call.done():
            out = await self.instance.rx("fax show sessions")
            session = parse_fax_session(out, file_name)
            if session is not None:
                channel, fax_id = session
                detail = await self.instance.rx(f"fax show session {fax_id}")
                if fax_pages_sent(detail) >= pages:
                    await self.instance.rx(f"channel request hangup {channel}")
                    return
            await asyncio.sleep(0.25)

    async def receive_fax(self, out: Path, mode: str = "t38", answer: str = "on") -> dict[str, str]:
        """From now on, treat incoming calls per ``answer``; faxes land in ``out``."""
        if mode not in FAX_MODES:
            raise LabError(f"fax mode must be one of {', '.join(FAX_MODES)}, not {mode!r}")
        if answer not in ANSWER_MODES:
            raise LabError(f"answer must be one of {', '.join(ANSWER_MODES)}, not {answer!r}")
        out = out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        if self.state.rx_dirs.get(self.station) != str(out):
            point = self.lab.chroot.bind(out, self.station.rx_dir)
            if point not in self.state.mounts:
                self.state.mounts.append(point)
            self.state.rx_dirs[self.station] = str(out)
            write_state(self.config, self.state)
        await self.instance.rx(f"database put faxcore answer {answer}")
        await self.instance.rx(f"database put faxcore rxopts {'F' if mode == 'g711' else 'f'}")
        return {"answer": answer, "mode": mode, "out": str(out)}

    async def wait_received(self, out: Path, seen: set[str], timeout: float) -> CallOutcome:
        """Wait for the next incoming call's outcome in ``out`` (files not in ``seen``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(out.glob("rx-*.vars")):
                if path.name in seen:
                    continue
                values = parse_vars(path.read_text())
                if values is not None:
                    seen.add(path.name)
                    outcome = outcome_from_vars(path.stem, values.get("CALLER", ""), values)
                    if "FAXFILE" in outcome.fax:
                        outcome.fax["FAXFILE"] = str(out / Path(outcome.fax["FAXFILE"]).name)
                    return outcome
            await asyncio.sleep(0.2)
        raise AtaTimeout(f"no incoming call outcome in {out} after {timeout:.0f} s")

    async def call(self, to: str, dtmf: str = "", play: Path | None = None,
                   record: Path | None = None, seconds: int = 10, anonymous: bool = False,
                   caller_id: str | None = None, ring_seconds: int = 30) -> CallOutcome:
        """A voice call from the station; plays/sends DTMF/records as asked; returns the outcome."""
        if dtmf and any(c not in "0123456789*#ABCDwW" for c in dtmf):
            raise LabError(f"invalid DTMF digits {dtmf!r} (0-9 * # A-D, w for a pause)")
        token = uuid.uuid4().hex
        setvars = {"FAXCORE_SECONDS": str(seconds), "FAXCORE_DTMF": dtmf}
        work = self._host(self.station.tx_dir)
        played: Path | None = None
        if play is not None:
            if not play.is_file():
                raise LabError(f"{play}: no such file")
            played = work / f"{token}.wav"
            await _to_wav8k(play, played)
            setvars["FAXCORE_PLAY"] = f"{self.station.tx_dir}/{token}"
        if record is not None:
            setvars["FAXCORE_RECORD"] = f"{self.station.tx_dir}/{token}-rec.wav"
        if anonymous:
            setvars["CALLERID(pres)"] = "prohib"
        try:
            outcome = await self._originate(to, "call", setvars, ring_seconds,
                                            seconds + ring_seconds + 60, caller_id)
            if record is not None:
                recorded = work / f"{token}-rec.wav"
                await _appears(recorded, RECORDING_CLOSE_SECONDS)
                if recorded.exists():
                    record.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(recorded, record)
                    outcome.recording = str(record)
            return outcome
        finally:
            if played is not None:
                played.unlink(missing_ok=True)
            (work / f"{token}-rec.wav").unlink(missing_ok=True)
            (work / f"{token}-rec.wav.part.wav").unlink(missing_ok=True)


class Ata(LabStation):
    """The subscriber's ATA: its calls come from its line."""


class Carrier(LabStation):
    """The public network: remote fax machines and phones, calling the PBX's DIDs."""

    station = Station.CARRIER
    default_caller_id = REMOTE_NUMBER


async def _appears(path: Path, seconds: float) -> None:
    """Until ``path`` exists (MixMonitor renames its file once closed), at most ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not path.exists() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)


async def to_fax_tiff(document: Path, out: Path) -> None:
    """Convert any document faxcore can fax into a fax TIFF (``faxcore.documents``)."""
    from faxcore.documents.convert import convert_to_fax
    from faxcore.documents.model import Quality

    if not document.is_file():
        raise LabError(f"{document}: no such file")
    await convert_to_fax([document], out, quality=Quality.HIGH)


async def _to_wav8k(source: Path, out: Path) -> None:
    """Asterisk plays 8 kHz mono 16-bit WAV: convert anything sox reads into that."""
    proc = await asyncio.create_subprocess_exec(
        "sox", str(source), "-r", "8000", "-c", "1", "-b", "16", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        out.unlink(missing_ok=True)
        raise LabError(f"sox cannot convert {source}: {err.decode(errors='replace').strip()}")
