"""Render Asterisk's configuration (PJSIP lines, ARI, fax, dialplan) from templates.

Templates live in the repository's ``asterisk-conf/`` (one per Asterisk file)
and ``dialplan/`` (extensions.conf); each ``NAME.j2`` renders to ``NAME``.
Rendering is pure: configuration and lines in, ``{file name: content}`` out,
the same bytes for the same input (so a sync can tell whether anything changed).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from faxcore.asterisk.credentials import ari_password
from faxcore.asterisk.errors import AsteriskConfigError, TemplateError
from faxcore.config import REPO_ROOT, FaxcoreConfig
from faxcore.storage.errors import UnsafeFolder
from faxcore.storage.files import SHARED_FILE_MODE, check_folder, write_atomic
from faxcore.storage.models import Line

TEMPLATE_DIRS = (REPO_ROOT / "asterisk-conf", REPO_ROOT / "dialplan")
FROM_LINE_CONTEXT = "faxcore-from-line"
DEFAULT_REALM = "faxcore"
# The operator's own PJSIP trunks, included by pjsip.conf and never written by faxcore.
TRUNKS_FILE = "pjsip_trunks.conf"

# Modules a fax and voicemail PBX never needs (ASTERISK-LAB.md): not loading
# them makes the start quieter and removes moving parts.
NOLOAD_MODULES = (
    "chan_dahdi.so", "codec_dahdi.so", "res_timing_dahdi.so", "app_dahdiras.so",
    "app_meetme.so", "app_flash.so", "app_page.so",
    "res_calendar.so", "res_calendar_caldav.so", "res_calendar_ews.so",
    "res_calendar_exchange.so", "res_calendar_icalendar.so",
    "res_config_ldap.so", "res_ldap.so",
    "res_odbc.so", "res_odbc_transaction.so", "res_config_odbc.so", "cdr_odbc.so",
    "cdr_adaptive_odbc.so", "cel_odbc.so", "func_odbc.so",
    "res_config_pgsql.so", "cdr_pgsql.so", "cel_pgsql.so",
    "res_snmp.so", "chan_iax2.so", "res_hep.so", "res_hep_pjsip.so", "res_hep_rtcp.so",
    "res_stir_shaken.so", "res_prometheus.so", "res_xmpp.so", "chan_motif.so",
    "chan_ooh323.so", "app_jack.so", "res_geolocation.so", "res_aeap.so",
    "res_speech_aeap.so", "chan_mgcp.so", "chan_skinny.so", "chan_unistim.so",
    "chan_console.so", "chan_alsa.so", "chan_oss.so", "chan_mobile.so", "cdr_radius.so",
    "cel_radius.so", "cdr_tds.so", "cel_tds.so", "cdr_sqlite3_custom.so",
    "cel_sqlite3_custom.so", "res_config_sqlite3.so", "res_corosync.so",
    "res_pjsip_phoneprov_provider.so", "res_phoneprov.so", "res_smdi.so",
    "res_statsd.so", "res_chan_stats.so", "res_endpoint_stats.so", "app_festival.so",
    "res_config_curl.so", "res_pjsip_stir_shaken.so", "chan_websocket.so",
    "res_pjsip_config_wizard.so", "res_resolver_unbound.so", "res_stun_monitor.so",
    # Not res_websocket_client.so: res_ari (22.10) needs its symbols.
    "res_pjsip_notify.so",
)

_CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class LineConf:
    """What the templates need of a line (plain strings, no ORM object)."""

    number: str
    mode: str
    sip_username: str
    sip_realm: str
    sip_ha1: str
    language: str

    @classmethod
    def of(cls, line: Line) -> LineConf:
        """Copy the fields of a stored line."""
        return cls(
            number=line.number,
            mode=str(line.mode.value if hasattr(line.mode, "value") else line.mode),
            sip_username=line.sip_username,
            sip_realm=line.sip_realm or DEFAULT_REALM,
            sip_ha1=line.sip_ha1,
            language=line.language,
        )


def _split_host_port(value: str, where: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise AsteriskConfigError(f"{where}: expected HOST:PORT, got {value!r}")
    return host, int(port)


def ari_password_crypt(user: str, password: str) -> str:
    """The ARI password as a SHA-512 crypt(3) hash Asterisk checks with ``crypt()``.

    The salt is derived from user and password so the rendered file is stable
    across renders (a sync only reloads what changed); guessing the password
    still costs a full crypt per guess.
    """
    digest = hashlib.sha256(f"faxcore-ari\0{user}\0{password}".encode()).digest()
    salt = "".join(_CRYPT_ALPHABET[b % 64] for b in digest[:16])
    name = ctypes.util.find_library("crypt")
    if name is None:
        raise AsteriskConfigError("libcrypt not found: cannot hash the ARI password")
    libcrypt = ctypes.CDLL(name)
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    result = libcrypt.crypt(password.encode(), f"$6${salt}$".encode())
    if not result or not result.startswith(b"$6$"):
        raise AsteriskConfigError("crypt() refused to hash the ARI password")
    return str(result.decode("ascii"))


def media_ports(sip_port: int) -> dict[str, int]:
    """RTP and UDPTL port ranges derived from the SIP port.

    Several Asterisks on one host (a PBX, the lab ATA, test labs) each get
    their own 400-port slot in 20000-44399 (61 slots, a prime, so the usual
    SIP ports 5060/5070, 15060/15070, 25060/25070 ... land in different
    slots) and never race for the same media ports.
    """
    base = 20000 + (sip_port % 61) * 400
    return {"rtp_start": base, "rtp_end": base + 299,
            "udptl_start": base + 300, "udptl_end": base + 399}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def template_names() -> list[str]:
    """Every ``*.j2`` template, as the file name it renders to."""
    names = [p.name[:-3] for d in TEMPLATE_DIRS if d.is_dir() for p in d.glob("*.j2")]
    if not names:
        raise TemplateError(f"no template found in {', '.join(map(str, TEMPLATE_DIRS))}")
    return sorted(names)


def render_pbx_config(config: FaxcoreConfig, lines: Sequence[Line]) -> dict[str, str]:
    """Asterisk configuration files for ``lines``: file name -> content."""
    sip_host, sip_port = _split_host_port(config.asterisk.sip_bind, "asterisk.sip_bind")
    ari_host, ari_port = _split_host_port(config.asterisk.ari_bind, "asterisk.ari_bind")
    confs = sorted((LineConf.of(line) for line in lines), key=lambda c: c.sip_username)
    realms = {c.sip_realm for c in confs}
    context = {
        "lines": confs,
        "realm": realms.pop() if len(realms) == 1 else DEFAULT_REALM,
        "sip_bind": f"{sip_host}:{sip_port}",
        "ari_host": ari_host,
        "ari_port": ari_port,
        "ari_user": config.asterisk.ari_user,
        "ari_password_crypt": ari_password_crypt(config.asterisk.ari_user,
                                                 ari_password(config)),
        "app": config.asterisk.app,
        "inbound_context": config.asterisk.inbound_context,
        "from_line_context": FROM_LINE_CONTEXT,
        "trunks_file": TRUNKS_FILE,
        "trunk": config.trunk if config.trunk.name else None,
        "dids": config.trunk.did_prefixes,
        "default_language": config.asterisk.default_language,
        "noload": NOLOAD_MODULES,
        **media_ports(sip_port),
    }
    env = _environment()
    files: dict[str, str] = {}
    for name in template_names():
        try:
            files[name] = env.get_template(name + ".j2").render(context)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {name}.j2: {exc}") from exc
    return files


def write_files(files: dict[str, str], out: Path) -> list[str]:
    """Write ``files`` into ``out`` atomically; return the changed names.

    Each file is 0640 in the folder's group (Asterisk's: it reads them, and
    pjsip.conf holds every line's HA1), written through a private temporary
    file; a folder every user may write to is refused.
    """
    try:
        if not out.is_dir():
            out.mkdir(parents=True, mode=0o750)
            out.chmod(0o750)
        check_folder(out)
        group = out.stat().st_gid
        changed: list[str] = []
        for name, content in sorted(files.items()):
            target = out / name
            if target.exists() and target.read_text() == content:
                continue
            write_atomic(target, content.encode(), SHARED_FILE_MODE, group)
            changed.append(name)
        return changed
    except UnsafeFolder as exc:
        raise AsteriskConfigError(f"Asterisk configuration not written: {exc}") from exc
    except OSError as exc:
        raise AsteriskConfigError(f"cannot write Asterisk configuration to {out}: {exc}") from exc
