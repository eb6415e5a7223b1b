"""Rendering faxcore's Asterisk configuration from lines (no Asterisk needed)."""

from __future__ import annotations

import configparser
import ctypes
import ctypes.util
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from faxcore.asterisk.credentials import FORMER_DEFAULT, ari_password, secret_path
from faxcore.asterisk.errors import AsteriskConfigError
from faxcore.asterisk.render import (
    FROM_LINE_CONTEXT,
    TRUNKS_FILE,
    ari_password_crypt,
    render_pbx_config,
    write_files,
)
from faxcore.config import FaxcoreConfig, TrunkConfig, check_trunk, load_config
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


def _with_trunk(config: FaxcoreConfig, **settings: str) -> FaxcoreConfig:
    return replace(config, trunk=replace(config.trunk, **settings))


def test_a_trunk_known_by_address_is_an_endpoint_to_the_inbound_context_matched_by_ip(
        config: FaxcoreConfig) -> None:
    trunk = _with_trunk(config, name="carrier", host="192.0.2.10:5062")
    objects = {(name, values.get("type")): values
               for name, values in sections(render_pbx_config(trunk, LINES)["pjsip.conf"])}
    endpoint = objects[("carrier", "endpoint")]
    assert endpoint["context"] == config.asterisk.inbound_context
    assert endpoint["aors"] == "carrier" and endpoint["t38_udptl"] == "yes"
    assert "outbound_auth" not in endpoint
    assert objects[("carrier", "aor")]["contact"] == "sip:192.0.2.10:5062"
    assert objects[("carrier", "identify")] == {"type": "identify", "endpoint": "carrier",
                                               "match": "192.0.2.10"}
    assert ("carrier-reg", "registration") not in objects
    # The send queue dials numbers that are no line through it.
    assert trunk.trunk_dial == "PJSIP/{number}@carrier"


def test_a_g711_only_trunk_is_never_offered_t38(config: FaxcoreConfig, tmp_path: Path) -> None:
    """With trunk.t38 false the PBX never re-INVITEs the carrier to T.38, so Asterisk's
    gateway never silences a call while it waits for the carrier's refusal."""
    (tmp_path / "faxcore.yaml").write_text("trunk: {name: carrier, host: 192.0.2.10, t38: false}\n")
    trunk = replace(load_config(tmp_path / "faxcore.yaml"), asterisk=config.asterisk)
    assert trunk.trunk.t38 is False
    objects = {(name, values.get("type")): values
               for name, values in sections(render_pbx_config(trunk, LINES)["pjsip.conf"])}
    endpoint = objects[("carrier", "endpoint")]
    assert endpoint["t38_udptl"] == "no" and "t38_udptl_ec" not in endpoint
    # The lines' own endpoints still do T.38 (Plug & Fax ATAs).
    assert all(values["t38_udptl"] == "yes" for (name, kind), values in objects.items()
               if kind == "endpoint" and name != "carrier")


def test_a_registering_trunk_authenticates_and_registers_instead_of_matching_by_ip(
        config: FaxcoreConfig) -> None:
    trunk = _with_trunk(config, name="ovh", host="sip.example.net", auth="register",
                        username="0033972100000", password="Tr0nk pass!")
    objects = {(name, values.get("type")): values
               for name, values in sections(render_pbx_config(trunk, LINES)["pjsip.conf"])}
    assert objects[("ovh", "endpoint")]["outbound_auth"] == "ovh-auth"
    assert objects[("ovh-auth", "auth")] == {
        "type": "auth", "auth_type": "userpass", "username": "0033972100000",
        "password": "Tr0nk pass!"}
    registration = objects[("ovh-reg", "registration")]
    assert registration["server_uri"] == "sip:sip.example.net"
    assert registration["client_uri"] == "sip:0033972100000@sip.example.net"
    assert (registration["line"], registration["endpoint"]) == ("yes", "ovh")
    assert ("ovh", "identify") not in objects


def test_no_trunk_renders_no_trunk_and_leaves_sending_out_to_the_operator_s_endpoint(
        config: FaxcoreConfig) -> None:
    pjsip = render_pbx_config(config, LINES)["pjsip.conf"]
    assert [name for name, _ in sections(pjsip)] == [
        "global", "transport-udp"] + [line.sip_username for line in LINES for _ in range(3)]
    assert config.trunk_dial == ""
    operator = replace(config, send=replace(config.send, trunk_endpoint="PJSIP/{digits}@x"))
    assert _with_trunk(operator, name="carrier", host="h").trunk_dial == "PJSIP/{digits}@x"


def test_did_ranges_reach_the_app_and_every_other_number_is_refused_as_unallocated(
        config: FaxcoreConfig) -> None:
    dialplan = render_pbx_config(_with_trunk(config, name="c", host="h",
                                             dids="+339721, +33140000001"),
                                 LINES)["extensions.conf"]
    inbound = dialplan.split(f"[{config.asterisk.inbound_context}]")[1].split("\n[")[0]
    app = config.asterisk.app
    assert f"exten => _+339721!,1,NoOp(faxcore inbound call to ${{EXTEN}})\n" \
           f" same => n,Stasis({app},inbound,${{EXTEN}})" in inbound
    assert "exten => _+33140000001!,1," in inbound
    assert inbound.count(f"Stasis({app},inbound") == 2
    assert "exten => _+X.,1,NoOp(faxcore refuses inbound call to ${EXTEN}: not one of its " \
           "DIDs)\n same => n,Hangup(1)" in inbound


@pytest.mark.parametrize(("settings", "message"), [
    ({"name": "1carrier", "host": "h"}, "trunk.name: '1carrier' is not a PJSIP name"),
    ({"name": "c;x", "host": "h"}, "trunk.name: 'c;x' is not a PJSIP name"),
    ({"name": "c", "host": ""}, "trunk.host: '' is not HOST or HOST:PORT"),
    ({"name": "c", "host": "h;transport=tcp"}, "trunk.host: 'h;transport=tcp' is not HOST"),
    ({"name": "c", "host": "h", "auth": "digest"}, "trunk.auth: 'digest' must be one of"),
    ({"name": "c", "host": "h", "auth": "register", "password": "pw"},
     "trunk.username: '' must be 1 to 64"),
    ({"name": "c", "host": "h", "auth": "register", "username": "u", "password": "a;b"},
     "trunk.password: 1 to 128 printable"),
    ({"name": "c", "host": "h", "auth": "register", "username": "u", "password": "a\nb"},
     "trunk.password: 1 to 128 printable"),
    ({"name": "c", "host": "h", "dids": "+3397,0972"}, "trunk.dids: '0972' is not an E.164"),
])
def test_trunk_settings_asterisk_would_misread_are_refused_naming_the_key(
        tmp_path: Path, settings: dict[str, str], message: str) -> None:
    environ = {f"FAXCORE_TRUNK_{key.upper()}": value for key, value in settings.items()}
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path), **environ})


def _near(pattern: str, max_size: int) -> st.SearchStrategy[str]:
    """Values that fit ``pattern``, and any text at all."""
    return st.one_of(st.from_regex(pattern, fullmatch=True), st.text(max_size=max_size))


@settings(max_examples=300, deadline=None)
@given(name=st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,39}", fullmatch=True),
       host=_near(r"[A-Za-z0-9.-]{1,30}(:[0-9]{1,5})?", 40),
       username=_near(r"[A-Za-z0-9+._-]{1,64}", 70),
       password=_near(r"[!-:<-~]([ -:<-~]{0,40}[!-:<-~])?", 140),
       dids=st.from_regex(r"((\+[1-9][0-9]{0,14})(, ?\+[1-9][0-9]{0,14}){0,3})?",
                          fullmatch=True))
def test_any_trunk_setting_is_refused_or_rendered_back_exactly(
        name: str, host: str, username: str, password: str, dids: str) -> None:
    """A value that passes the check is one Asterisk setting, read back as given."""
    trunk = TrunkConfig(name=name, host=host, auth="register", username=username,
                        password=password, dids=dids)
    try:
        check_trunk(trunk)
    except ConfigError:
        event("refused")
        return
    event("rendered")
    config = replace(FaxcoreConfig(), trunk=trunk)
    objects = {(n, values.get("type")): values
               for n, values in sections(render_pbx_config(config, LINES)["pjsip.conf"])}
    assert objects[(f"{name}-auth", "auth")]["password"] == password
    assert objects[(f"{name}-auth", "auth")]["username"] == username
    assert objects[(f"{name}-reg", "registration")]["server_uri"] == f"sip:{host}"
    dialplan = render_pbx_config(config, LINES)["extensions.conf"]
    for prefix in trunk.did_prefixes:
        assert f"exten => _{prefix}!,1," in dialplan
