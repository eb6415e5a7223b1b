"""``faxcore asterisk render`` on a fresh data dir."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from faxcore.cli import main


def test_render_on_fresh_data_dir_writes_every_file(tmp_path: Path) -> None:
    env = {"FAXCORE_DATA_DIR": str(tmp_path / "data"), "FAXCORE_LOG_LEVEL": "WARNING"}
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["asterisk", "render", "--out", str(out), "--json"],
                                env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["lines"] == 0
    assert {"pjsip.conf", "extensions.conf", "ari.conf", "http.conf", "modules.conf"} <= set(
        data["files"])
    assert sorted(p.name for p in out.iterdir()) == data["files"]


def test_render_bad_config_is_one_error_line(tmp_path: Path) -> None:
    env = {"FAXCORE_DATA_DIR": str(tmp_path / "data"), "FAXCORE_ASTERISK_SIP_BIND": "nowhere"}
    result = CliRunner().invoke(main, ["asterisk", "render", "--out", str(tmp_path / "o")],
                                env=env)
    assert result.exit_code == 1
    assert "asterisk.sip_bind: expected HOST:PORT" in result.output


def test_render_with_the_formerly_shipped_ari_password_is_refused(tmp_path: Path) -> None:
    env = {"FAXCORE_DATA_DIR": str(tmp_path / "data"),
           "FAXCORE_ASTERISK_ARI_PASSWORD": "faxcore-ari-secret"}
    result = CliRunner().invoke(main, ["asterisk", "render", "--out", str(tmp_path / "o")],
                                env=env)
    assert result.exit_code == 1
    assert "asterisk.ari_password is 'faxcore-ari-secret'" in result.output
    assert not (tmp_path / "o").exists()


def test_render_into_a_folder_every_user_may_write_is_one_error_line(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    out.chmod(0o777)
    result = CliRunner().invoke(main, ["asterisk", "render", "--out", str(out)],
                                env={"FAXCORE_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 1
    assert f"{out} is writable by every user" in result.output
    assert list(out.iterdir()) == []
