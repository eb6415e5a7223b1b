"""``faxcore line ...`` and ``faxcore db ...`` run as real processes on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faxcore.security.passwords import sip_ha1


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no FAXCORE_* from the caller, data in the test's folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAXCORE_")}
    env["FAXCORE_DATA_DIR"] = str(data_dir)
    env["FAXCORE_LOG_LEVEL"] = "INFO"  # the loudest level users run with: still no noise
    env.update(extra)
    return env


class Cli:
    """Runs ``python -m faxcore`` with one environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, *args: str, stdin: str = "", ok: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "faxcore", *args], input=stdin, capture_output=True,
            text=True, env={**self.env, **(env or {})}, timeout=60, check=False,
        )
        if ok:
            assert proc.returncode == 0, proc.stderr
            assert proc.stderr == "", proc.stderr
        return proc

    def json(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin, env=env).stdout)

    def error(self, *args: str, stdin: str = "") -> str:
        """Run a command that must fail: exit 1, nothing on stdout, one line on stderr."""
        proc = self.run(*args, stdin=stdin, ok=False)
        assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("faxcore: error: ")
        return lines[0].removeprefix("faxcore: error: ")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(_env(tmp_path / "data"))


@pytest.fixture
def pg_cli(tmp_path: Path, pg_url: str) -> Cli:
    return Cli(_env(tmp_path / "data", FAXCORE_DATABASE_URL=pg_url))


def _ha1(cli: Cli, number: str) -> str:
    """The stored HA1, read by a separate process through the models (the DB is real)."""
    code = (
        "import asyncio,sys\n"
        "from sqlalchemy import select\n"
        "from faxcore.config import load_config\n"
        "from faxcore.storage.db import Database\n"
        "from faxcore.storage.models import Line\n"
        "async def main():\n"
        "    db = Database(load_config().database_url)\n"
        "    async with db.session() as s:\n"
        f"        print(await s.scalar(select(Line.sip_ha1).where(Line.number == {number!r})))\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=cli.env, capture_output=True,
                         text=True, check=True, timeout=60)
    return out.stdout.strip()


def test_line_lifecycle_in_text_on_a_fresh_data_dir(cli: Cli, tmp_path: Path) -> None:
    added = cli.run("line", "add", "+33 1 23 45 67 89", "--sip-password", "abcd1234",
                    "--pin", "2580", "--station-id", "ACME FAX")
    assert added.stdout.splitlines() == [
        "line +33123456789 added (fax)",
        "asterisk: not configured (no asterisk.config_dir and no lab): nothing written",
    ]
    assert (tmp_path / "data" / "faxcore.db").is_file()
    assert cli.run("line", "list").stdout.split() == ["+33123456789", "fax", "ACME", "FAX"]
    shown = cli.run("line", "show", "0033123456789").stdout
    assert "mode:          fax" in shown and "pin:           set" in shown
    assert "2580" not in shown and "abcd1234" not in shown

    changed = cli.run("line", "set", "+33123456789", "mode=voicemail", "header=Dupont SA")
    assert changed.stdout.splitlines()[0] == "line +33123456789 changed (voicemail)"
    assert "header:        Dupont SA" in cli.run("line", "show", "+33123456789").stdout

    removed = cli.run("line", "remove", "+33123456789")
    assert removed.stdout.splitlines()[0] == "line +33123456789 removed (voicemail)"
    assert cli.run("line", "list").stdout.strip() == "no lines"


def test_line_commands_in_json_with_secrets_from_stdin_and_env(cli: Cli) -> None:
    added = cli.json("line", "add", "+49 30 1234567", "--sip-password", "-",
                     "--fax-password", "env:FAX_PW", "--pin", "-",
                     stdin="Secret-99\n4711\n", env={"FAX_PW": "faxpw1"})
    line = added["line"]
    assert line["number"] == "+49301234567" and line["sip_username"] == "49301234567"
    assert line["has_fax_password"] and line["has_pin"]
    assert not {"sip_ha1", "pin_hash", "fax_password_hash"} & set(line)
    assert added["asterisk"]["configured"] is False
    assert _ha1(cli, "+49301234567") == sip_ha1("49301234567", "faxcore", "Secret-99")

    listed = cli.json("line", "list")
    assert [entry["number"] for entry in listed["lines"]] == ["+49301234567"]
    assert cli.json("line", "show", "+49301234567")["line"] == line

    changed = cli.json("line", "set", "+49301234567", "sip_password=-", "pin=",
                       "language=en", stdin="Other-pass1\n")
    assert changed["line"]["has_pin"] is False and changed["line"]["language"] == "en"
    assert _ha1(cli, "+49301234567") == sip_ha1("49301234567", "faxcore", "Other-pass1")

    assert cli.json("line", "remove", "+49301234567")["line"]["number"] == "+49301234567"
    assert cli.json("line", "list") == {"lines": []}


def test_refused_input_is_one_error_line_and_nothing_written(cli: Cli) -> None:
    assert cli.error("line", "add", "+33123456789", "--sip-password", "abcdefgh") == (
        "SIP password must mix at least two kinds of characters among digits, letters "
        "and special characters"
    )
    assert cli.error("line", "add", "01 23 45 67 89", "--sip-password", "abcd1234") == (
        "number '01 23 45 67 89' is not in international format: start with + or 00 and "
        "the country code, e.g. +33 1 23 45 67 89"
    )
    assert cli.error("line", "add", "+33123456789", "--sip-password", "abcd1234",
                     "--pin", "3123456789") == (
        "PIN must not be the last digits of the line's number"
    )
    assert cli.error("line", "add", "+33123456789", "--sip-password", "-", stdin="") == (
        "sip_password: '-' given but standard input has no line left"
    )
    assert cli.json("line", "list") == {"lines": []}

    cli.run("line", "add", "+33123456789", "--sip-password", "abcd1234", "--station-id", "ONE")
    assert cli.error("line", "add", "+33123456789", "--sip-password", "efgh5678") == (
        "line +33123456789 already exists"
    )
    assert cli.error("line", "set", "+33123456789", "station_id=TWO", "colour=blue") == (
        "unknown setting 'colour'; settable: mode, fax_password, pin, sip_password, "
        "station_id, tsi, header, language, send_quality, send_max_attempts, mail_format, "
        "mail_from, mail_from_name, audio_format, keep_voicemail"
    )
    assert cli.error("line", "set", "+33123456789", "station_id=TWO", "mode=fax2") == (
        "mode must be 'fax' or 'voicemail', not 'fax2'"
    )
    assert cli.json("line", "show", "+33123456789")["line"]["station_id"] == "ONE"
    assert _ha1(cli, "+33123456789") == sip_ha1("33123456789", "faxcore", "abcd1234")
    assert cli.error("line", "remove", "+33999999999") == "no line +33999999999"


def test_json_errors_are_a_json_object_and_exit_1(cli: Cli) -> None:
    proc = cli.run("line", "show", "+33123456789", "--json", ok=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"error": "no line +33123456789"}


def test_db_upgrade_and_current(cli: Cli) -> None:
    assert cli.run("db", "current").stdout.strip().endswith(
        "not initialised (run: faxcore db upgrade)"
    )
    first = cli.json("db", "upgrade")
    assert first["before"] is None and first["changed"] and first["up_to_date"]
    assert cli.run("db", "upgrade").stdout.strip().endswith(
        f"already at {first['current']} (head)"
    )
    assert cli.json("db", "current")["current"] == first["head"]


def test_unreachable_database_is_one_error_line(tmp_path: Path) -> None:
    cli = Cli(_env(tmp_path / "data",
                   FAXCORE_DATABASE_URL="postgresql://faxcore:pw@127.0.0.1:1/nowhere"))
    message = cli.error("line", "list")
    assert message.startswith("database postgresql://faxcore:***@127.0.0.1:1/nowhere: "
                          "cannot connect")


def test_line_commands_on_postgresql(pg_cli: Cli) -> None:
    pg_cli.json("line", "add", "+33123456789", "--sip-password", "abcd1234",
                "--mode", "voicemail", "--pin", "2580")
    assert pg_cli.error("line", "add", "0033 1 23 45 67 89", "--sip-password", "efgh5678") == (
        "line +33123456789 already exists"
    )
    assert pg_cli.json("line", "set", "+33123456789", "mode=fax")["line"]["mode"] == "fax"
    assert [e["mode"] for e in pg_cli.json("line", "list")["lines"]] == ["fax"]
    assert _ha1(pg_cli, "+33123456789") == sip_ha1("33123456789", "faxcore", "abcd1234")
    pg_cli.json("line", "remove", "+33123456789")
    assert pg_cli.json("line", "list") == {"lines": []}
    assert pg_cli.json("db", "current")["up_to_date"] is True


def test_line_changes_rewrite_the_asterisk_configuration(tmp_path: Path) -> None:
    """add/set/remove re-render pjsip.conf; an unreachable Asterisk is a warning, not a failure."""
    conf = tmp_path / "asterisk"
    cli = Cli(_env(tmp_path / "data", FAXCORE_ASTERISK_CONFIG_DIR=str(conf),
                   FAXCORE_ASTERISK_ARI_URL="http://127.0.0.1:1"))
    added = cli.run("line", "add", "+33123456789", "--sip-password", "abcd1234", ok=False)
    assert added.returncode == 0, added.stderr
    out = added.stdout.splitlines()
    assert out[1].startswith("asterisk: ") and f"written to {conf}" in out[1]
    assert out[2].startswith("asterisk: warning: Asterisk not reachable at http://127.0.0.1:1")
    pjsip = (conf / "pjsip.conf").read_text()
    assert f"md5_cred={sip_ha1('33123456789', 'faxcore', 'abcd1234')}" in pjsip
    assert "abcd1234" not in pjsip

    changed = cli.json("line", "set", "+33123456789", "sip_password=efgh5678",
                       env={"FAXCORE_LOG_LEVEL": "ERROR"})
    assert changed["asterisk"]["written"] == ["pjsip.conf"]
    assert changed["asterisk"]["warnings"] and not changed["asterisk"]["ok"]
    pjsip = (conf / "pjsip.conf").read_text()
    assert f"md5_cred={sip_ha1('33123456789', 'faxcore', 'efgh5678')}" in pjsip

    cli.json("line", "remove", "+33123456789", env={"FAXCORE_LOG_LEVEL": "ERROR"})
    assert "33123456789" not in (conf / "pjsip.conf").read_text()


def test_unwritable_asterisk_folder_keeps_the_line_and_warns_once(tmp_path: Path) -> None:
    """The change is saved and the command succeeds with a warning: never saved and failed."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    conf = blocker / "asterisk"
    cli = Cli(_env(tmp_path / "data", FAXCORE_ASTERISK_CONFIG_DIR=str(conf)))
    added = cli.run("line", "add", "+33123456789", "--sip-password", "abcd1234", ok=False)
    assert added.returncode == 0, added.stderr
    out = added.stdout.splitlines()
    assert out[0] == "line +33123456789 added (fax)"
    assert out[1].startswith(f"asterisk: warning: cannot write Asterisk configuration to {conf}")
    assert out[1].endswith("the line change is saved: run 'faxcore asterisk sync' once this is "
                           "fixed")
    assert cli.json("line", "show", "+33123456789")["line"]["number"] == "+33123456789"
    assert cli.error("line", "add", "+33123456789", "--sip-password", "abcd1234") == (
        "line +33123456789 already exists")
    removed = cli.json("line", "remove", "+33123456789", env={"FAXCORE_LOG_LEVEL": "ERROR"})
    assert removed["asterisk"]["failed"].startswith("cannot write Asterisk configuration")
    assert removed["asterisk"]["ok"] is False
    assert cli.json("line", "list") == {"lines": []}
