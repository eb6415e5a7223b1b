"""Rendering faxcore's Asterisk configuration from lines (no Asterisk needed)."""

from __future__ import annotations

import configparser
import ctypes
import ctypes.util
import stat
from pathlib import Path

import pytest

from faxcore.asterisk.credentials import FORMER_DEFAULT, ari_password, secret_path
from faxcore.asterisk.errors import AsteriskConfigError
from faxcore.asterisk.render import (
    FROM_LINE_CONTEXT,
    TRUNKS_FILE,
    ari_password_crypt,
    render_pbx_config,
    write_files,
)
from faxcore.config import FaxcoreConfig, load_config
from faxcore.domain import LineMode
from faxcore.errors import ConfigError
from faxcore.security.passwords import sip_ha1
from faxcore.storage.models import Line


def make_line(number: str, password: str, mode: LineMode = LineMode.FAX) -> Line:
    user = number[1:]
    return Line(number=number, mode=mode, sip_username=user, sip_realm="faxcore",
                sip_ha1=sip_ha1(user, "faxcore", password), language="fr")


LINES = [make_line("+33972101234", "Secret-123"),
         make_line("+33972105678", "Other-456", LineMode.VOICEMAIL)]


def sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Asterisk config sections in order (names repeat: endpoint, auth, aor)."""
    result: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            result.append((line[1:-1], {}))
        elif "=" in line and result:
            key, _, value = line.partition("=")
            result[-1][1].setdefault(key.strip(), value.strip())
    return result


def test_pjsip_has_endpoint_auth_and_aor_per_line(config: FaxcoreConfig) -> None:
    pjsip = render_pbx_config(config, LINES)["pjsip.conf"]
    objects = {(name, values.get("type")): values for name, values in sections(pjsip)}
    for line in LINES:
        endpoint = objects[(line.sip_username, "endpoint")]
        assert endpoint["auth"] == endpoint["aors"] == line.sip_username
        assert endpoint["context"] == FROM_LINE_CONTEXT
        assert endpoint["t38_udptl"] == "yes"
        assert endpoint["t38_udptl_ec"] == "redundancy"
        assert endpoint["direct_media"] == "no"
        auth = objects[(line.sip_username, "auth")]
        assert auth == {"type": "auth", "auth_type": "md5", "username": line.sip_username,
                        "realm": "faxcore", "md5_cred": line.sip_ha1}
        assert (line.sip_username, "aor") in objects
    assert objects[("global", "global")]["default_realm"] == "faxcore"
    assert objects[("transport-udp", "transport")]["bind"] == config.asterisk.sip_bind


def test_line_mode_and_number_reach_the_dialplan_through_set_var(config: FaxcoreConfig) -> None:
    pjsip = render_pbx_config(config, LINES)["pjsip.conf"]
    assert "set_var=FAXCORE_LINE=+33972105678\nset_var=FAXCORE_MODE=voicemail" in pjsip


def test_no_line_renders_a_valid_empty_pjsip(config: FaxcoreConfig) -> None:
    pjsip = render_pbx_config(config, [])["pjsip.conf"]
    assert [t.get("type") for _, t in sections(pjsip)] == ["global", "transport"]


def test_ari_password_is_not_in_clear_and_checks_with_crypt(config: FaxcoreConfig) -> None:
    files = render_pbx_config(config, LINES)
    secret = ari_password(config)
    assert all(secret not in content for content in files.values())
    ari = dict(sections(files["ari.conf"]))[config.asterisk.ari_user]
    assert ari["password_format"] == "crypt"
    libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt"))
    libcrypt.crypt.restype = ctypes.c_char_p
    stored = ari["password"].encode()
    assert libcrypt.crypt(secret.encode(), stored) == stored
    assert libcrypt.crypt(b"wrong", stored) != stored


def test_ari_hash_is_stable_but_differs_per_password() -> None:
    assert ari_password_crypt("faxcore", "a-secret") == ari_password_crypt("faxcore", "a-secret")
    assert ari_password_crypt("faxcore", "a-secret") != ari_password_crypt("faxcore", "b-secret")


def test_http_binds_loopback_and_modules_noload(config: FaxcoreConfig) -> None:
    files = render_pbx_config(config, LINES)
    http = dict(sections(files["http.conf"]))["general"]
    assert (http["bindaddr"], http["bindport"]) == ("127.0.0.1", "8088")
    modules = files["modules.conf"]
    assert "autoload=yes" in modules
    for module in ("chan_dahdi.so", "res_stir_shaken.so", "chan_iax2.so", "res_prometheus.so"):
        assert f"noload={module}" in modules


def test_dialplan_hands_calls_to_the_stasis_app(config: FaxcoreConfig) -> None:
    dialplan = render_pbx_config(config, LINES)["extensions.conf"]
    app = config.asterisk.app
    assert f"[{config.asterisk.inbound_context}]" in dialplan
    assert f"Stasis({app},inbound,${{EXTEN}})" in dialplan
    assert f"[{FROM_LINE_CONTEXT}]" in dialplan
    assert f"Stasis({app},from-line,${{FAXCORE_LINE}},${{EXTEN}})" in dialplan


def test_fax_settings_rendered(config: FaxcoreConfig) -> None:
    files = render_pbx_config(config, LINES)
    parser = configparser.ConfigParser(strict=False)
    parser.read_string(files["udptl.conf"])
    assert int(parser["general"]["udptlstart"]) < int(parser["general"]["udptlend"])
    assert "ecm=yes" in files["res_fax.conf"]


def test_bad_sip_bind_is_a_clear_error(config: FaxcoreConfig) -> None:
    config.asterisk.sip_bind = "localhost"
    with pytest.raises(AsteriskConfigError, match=r"asterisk\.sip_bind: expected HOST:PORT"):
        render_pbx_config(config, LINES)


def test_write_files_reports_only_changed_files_and_leaves_no_temp(tmp_path: Path) -> None:
    assert write_files({"a.conf": "1\n", "b.conf": "2\n"}, tmp_path) == ["a.conf", "b.conf"]
    assert write_files({"a.conf": "1\n", "b.conf": "3\n"}, tmp_path) == ["b.conf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.conf", "b.conf"]
    assert (tmp_path / "b.conf").read_text() == "3\n"


def test_operator_trunks_are_included_and_never_written(config: FaxcoreConfig,
                                                        tmp_path: Path) -> None:
    files = render_pbx_config(config, LINES)
    assert files["pjsip.conf"].rstrip().endswith(f"#tryinclude {TRUNKS_FILE}")
    assert TRUNKS_FILE not in files
    own = tmp_path / TRUNKS_FILE
    own.write_text("[mytrunk]\ntype=endpoint\n")
    write_files(files, tmp_path)
    assert own.read_text() == "[mytrunk]\ntype=endpoint\n"


def test_write_files_never_follows_a_symlink_planted_at_a_temp_name(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    for name in (".pjsip.conf.tmp", ".pjsip.conf.part", "pjsip.conf.tmp"):
        (out / name).symlink_to(victim)
    assert write_files({"pjsip.conf": "[global]\n"}, out) == ["pjsip.conf"]
    assert victim.read_text() == "keep me\n"
    written = out / "pjsip.conf"
    assert not written.is_symlink() and written.read_text() == "[global]\n"


def test_rendered_files_are_readable_by_the_folder_group_only(tmp_path: Path) -> None:
    out = tmp_path / "asterisk" / "faxcore"
    write_files({"pjsip.conf": "[global]\n"}, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert stat.S_IMODE((out / "pjsip.conf").stat().st_mode) == 0o640
    assert (out / "pjsip.conf").stat().st_gid == out.stat().st_gid


def test_output_folder_writable_by_every_user_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o777)
    with pytest.raises(AsteriskConfigError, match="writable by every user"):
        write_files({"pjsip.conf": "[global]\n"}, out)
    assert list(out.iterdir()) == []


def test_ari_password_is_generated_per_install_and_kept_private(tmp_path: Path) -> None:
    first = load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path / "a")})
    second = load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path / "b")})
    password = ari_password(first)
    assert password == ari_password(first) and password != ari_password(second)
    assert len(password) >= 24 and password != FORMER_DEFAULT
    kept = secret_path(first)
    assert kept.read_text().strip() == password
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_the_formerly_shipped_ari_password_is_refused(config: FaxcoreConfig) -> None:
    config.asterisk.ari_password = "faxcore-ari-secret"
    with pytest.raises(ConfigError, match="everyone knows"):
        render_pbx_config(config, LINES)
