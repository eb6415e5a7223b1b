"""faxcore configuration: one YAML file with defaults, ``FAXCORE_*`` overrides.

The embedded default needs nothing running: SQLite and files under
``data_dir``, no MQTT broker. PostgreSQL and MQTT are one line away
(``database.url``, ``mqtt.url``).

Environment overrides name a top-level key (``FAXCORE_DATA_DIR``) or a
section and key (``FAXCORE_DATABASE_URL``, ``FAXCORE_ASTERISK_ARI_URL``).
``FAXCORE_CONFIG`` names the file to read. ``FAXCORE_TEST_*`` variables
belong to the test suite and are not configuration.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

from faxcore.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATHS = (Path("faxcore.yaml"), Path("/etc/faxcore/faxcore.yaml"))
# Environment names that start with FAXCORE_ but are not configuration keys.
_NOT_CONFIG_PREFIXES = ("FAXCORE_CONFIG", "FAXCORE_TEST_")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "faxcore"


@dataclass
class DatabaseConfig:
    """Where state lives. Empty ``url`` means SQLite in ``data_dir``."""

    url: str = ""
    echo: bool = False


@dataclass
class MqttConfig:
    """Notification bus. Empty ``url`` means no broker (embedded default)."""

    url: str = ""  # mqtt://host:1883, or mqtts://host:8883 (TLS)
    topic_prefix: str = "faxcore"
    # Credentials faxcore presents (the broker's password file); they win over
    # any user:password written in the URL.
    username: str = ""
    password: str = ""
    # TLS to the broker (also implied by mqtts://): the server certificate is
    # checked against ca_file, or the system's CAs when empty.
    tls: bool = False
    ca_file: str = ""


@dataclass
class EventsConfig:
    """The event outbox (N1): how long delivered events are kept."""

    # Events older than this, and delivered everywhere they must go (published
    # to MQTT when a broker is set, queued as mail when serve mails), are deleted.
    keep_days: int = 30
    # How often ``faxcore serve`` prunes the outbox, in seconds.
    prune_interval_seconds: int = 3600


@dataclass
class SmtpConfig:
    """Outgoing e-mail for notifications. Empty ``url`` means no e-mail is sent."""

    url: str = ""  # smtp://user:password@host:25, or smtps://host:465 (implicit TLS)
    starttls: bool = False
    # The server's certificate is always checked: against this CA bundle (PEM),
    # or the system's CAs when empty.
    ca_file: str = ""
    timeout: float = 30.0
    from_address: str = "faxcore@localhost"
    from_name: str = "faxcore"


@dataclass
class NotifyConfig:
    """How the e-mail notifier works (N2, R5, V8)."""

    in_process: bool = True  # `faxcore serve` runs the notifier on its outbox
    max_attachment_mb: float = 10.0
    max_attempts: int = 30
    retry_initial: float = 30.0
    retry_max: float = 3600.0
    poll_interval: float = 1.0
    mqtt_client_id: str = "faxcore-notifier"


@dataclass
class AsteriskConfig:
    """How faxcore reaches the Asterisk it drives."""

    ari_url: str = "http://127.0.0.1:8088"
    ari_user: str = "faxcore"
    # Empty: generated on first use and kept in <data_dir>/ari-password (0600).
    ari_password: str = ""
    app: str = "faxcore"
    # Folder where ``faxcore asterisk render`` output is written on line changes,
    # and the Asterisk config dir includes it. Empty: no automatic re-render.
    config_dir: str = ""
    # Asterisk's SIP listener, as rendered into pjsip.conf.
    sip_bind: str = "127.0.0.1:5060"
    ari_bind: str = "127.0.0.1:8088"
    # Context that receives inbound calls for lines (see dialplan/).
    inbound_context: str = "faxcore-inbound"
    # Language of prompts when a line does not set one.
    default_language: str = "fr"


@dataclass
class TrunkConfig:
    """The SIP trunk to the public network (L5), rendered into pjsip.conf.

    Calls from the carrier to the DIDs reach faxcore's lines; faxes to any
    number that is no line go out through it.
    """

    # PJSIP endpoint name of the trunk (a letter, then letters, digits, - or _).
    # Empty: faxcore renders no trunk (an operator-owned pjsip_trunks.conf and
    # send.trunk_endpoint may still provide one).
    name: str = ""
    # The carrier's SIP address: HOST or HOST:PORT.
    host: str = ""
    # How a call is known to come from the carrier: "ip" (it comes from host's
    # address), or "register" (faxcore registers to the carrier as username
    # with password, and the carrier calls the registered contact).
    auth: str = "ip"
    username: str = ""
    password: str = ""
    # Comma-separated E.164 prefixes of the numbers the carrier routes to
    # faxcore (DID ranges, "+3397210" or a whole number). A call from the
    # network to any other number is refused by Asterisk before faxcore sees
    # it. Empty: every number (faxcore refuses a number that is no line).
    dids: str = ""
    # Whether the carrier takes faxes in T.38. Asterisk's T.38 gateway asks a
    # T.38 trunk to switch on the first fax tones and silences the call until
    # it answers; a G.711-only carrier (false) is never asked.
    t38: bool = True

    @property
    def did_prefixes(self) -> tuple[str, ...]:
        """The DID prefixes, each checked at load (``check_trunk``)."""
        return tuple(p.strip() for p in self.dids.split(",") if p.strip())

    @property
    def address(self) -> str:
        """``host`` without its port: what calls from the carrier come from."""
        host, sep, port = self.host.rpartition(":")
        return host if sep and port.isdigit() and not host.endswith(":") else self.host


TRUNK_AUTH = ("ip", "register")
_TRUNK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_TRUNK_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?")
_TRUNK_USER = re.compile(r"[A-Za-z0-9+._-]{1,64}")
_E164_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")


def check_trunk(trunk: TrunkConfig) -> None:
    """Refuse a trunk setting Asterisk would misread, naming the key (``ConfigError``)."""
    if not trunk.name:
        return
    if not _TRUNK_NAME.fullmatch(trunk.name):
        raise ConfigError(f"trunk.name: {trunk.name!r} is not a PJSIP name: a letter, then "
                          "up to 39 letters, digits, '-' or '_'")
    if not _TRUNK_HOST.fullmatch(trunk.host):
        raise ConfigError(f"trunk.host: {trunk.host!r} is not HOST or HOST:PORT")
    if trunk.auth not in TRUNK_AUTH:
        raise ConfigError(f"trunk.auth: {trunk.auth!r} must be one of {', '.join(TRUNK_AUTH)}")
    if trunk.auth == "register":
        if not _TRUNK_USER.fullmatch(trunk.username):
            raise ConfigError(f"trunk.username: {trunk.username!r} must be 1 to 64 letters, "
                              "digits or + . _ - to register")
        password = trunk.password
        if (not password or len(password) > 128 or password != password.strip()
                or ";" in password or not password.isprintable()):
            raise ConfigError("trunk.password: 1 to 128 printable characters, no ';' and no "
                              "leading or trailing space, to register")
    _check_prefixes("trunk.dids", trunk.did_prefixes)


def _check_prefixes(key: str, prefixes: tuple[str, ...]) -> None:
    for prefix in prefixes:
        if not _E164_PREFIX.fullmatch(prefix):
            raise ConfigError(f"{key}: {prefix!r} is not an E.164 prefix (+ and digits)")


@dataclass
class MediaConfig:
    """Where Asterisk sends call audio for faxcore (AudioSocket over TCP)."""

    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = 0  # 0: an ephemeral port chosen at start


@dataclass
class FaxConfig:
    """Fax reception: where faxes are kept, how long a call may last."""

    # Received TIFF and PDF files; empty: ``<data_dir>/faxes``.
    storage_dir: str = ""
    # Longest fax call, in seconds (a safety net over the T.30 timers).
    max_call_seconds: int = 1800
    # Error correction mode offered to senders.
    ecm: bool = True
    # This many wrong fax passwords (web portal, API login, e-mail to fax)
    # within password_lockout_seconds lock the password, like the PIN.
    password_lockout_failures: int = 5
    password_lockout_seconds: int = 900


@dataclass
class VoicemailConfig:
    """The answering machine (V1-V9)."""

    # Longest message a caller may leave, in seconds (V2).
    max_message_seconds: int = 180
    # Seconds of silence that end a message.
    silence_seconds: int = 5
    # Messages shorter than this (milliseconds) are dropped.
    min_message_ms: int = 1000
    # At most this many messages per mailbox (V7); then "mailbox full".
    max_messages: int = 100
    # At most this much message audio per mailbox, in MiB (V7); then "mailbox full".
    max_storage_mb: int = 250
    # Past this share of either limit, one "mailbox nearly full" event (V7).
    nearly_full_percent: int = 90
    # Messages older than this are removed by the retention job (V7).
    retention_days: int = 183
    # How often ``faxcore serve`` runs the retention job, in seconds.
    retention_interval_seconds: int = 3600
    # This many wrong PINs within pin_lockout_seconds lock the mailbox (until
    # the oldest of them is that old); the phone menu hangs up after 3 in a call.
    pin_lockout_failures: int = 5
    pin_lockout_seconds: int = 900
    # Asterisk's voicemail spool folder (as faxcore reaches it) where faxcore
    # mirrors each mailbox's counts for app_voicemail to turn into MWI. Empty: no MWI.
    mwi_spool_dir: str = ""
    # A folder Asterisk can read that faxcore copies greetings into, and the
    # same folder as Asterisk names it (differs when Asterisk runs in a chroot
    # or container). Empty: only system greetings are played.
    sounds_dir: str = ""
    sounds_dir_in_asterisk: str = ""
    # The number callers dial to hear their messages from any phone (V3), as
    # it reaches faxcore (E.164 from the network, or a short number dialled by
    # a line's ATA). Empty: no dial-in retrieval. Prompts there before login
    # are in access_language (a line's own language once logged in).
    access_number: str = ""
    access_language: str = "fr"



@dataclass
class SendConfig:
    """Sending faxes (S4, S5): the queue, its retries and the outbound route."""

    spool_dir: str = ""  # empty: data_dir/outgoing
    max_attempts: int = 3
    retry_initial: float = 300.0
    retry_max: float = 3600.0
    lease: float = 120.0
    max_concurrent: int = 4
    max_per_line: int = 1
    poll_interval: float = 1.0
    trunk_endpoint: str = ""
    ring_timeout: int = 45
    # Destinations a line's fax machine may not fax (comma-separated E.164
    # prefixes), and whether premium-rate numbers may be faxed.
    barred_prefixes: str = ""
    allow_premium_rate: bool = False

    @property
    def barred(self) -> tuple[str, ...]:
        """The barred prefixes, each checked at load."""
        return tuple(p.strip() for p in self.barred_prefixes.split(",") if p.strip())


@dataclass
class DocumentsConfig:
    """Limits on documents sent as faxes and on the converters that read them (S1).

    Documents come from subscribers (CLI, web portal, e-mail gateway) and are
    hostile until rendered; see docs/security.md, "Senders of documents".
    """

    # Pages one fax may have, and megabytes per document file.
    max_pages: int = 100
    max_file_mb: int = 20
    # Each converter run (Ghostscript, LibreOffice, rsvg-convert, PDF probe):
    # wall-clock seconds, CPU seconds, address space and largest file written (MB).
    tool_timeout: float = 120.0
    tool_cpu_seconds: int = 120
    tool_memory_mb: int = 2048
    tool_file_mb: int = 256
    # Megabytes one conversion may have in its temporary folder at once.
    work_mb: int = 1024
    # Megabytes the parts of an office file (a zip) may unpack to, together.
    max_unpacked_mb: int = 256


# Entry points naming the dataclass of a plugin's section of the file (the
# lab's): the product reads such a section without knowing the plugin.
PLUGIN_SECTIONS = "faxcore.config_sections"


@functools.cache
def plugin_sections() -> dict[str, Any]:
    """Section name -> dataclass, for every installed plugin (read once a process)."""
    return {entry.name: entry.load() for entry in entry_points(group=PLUGIN_SECTIONS)}


@dataclass
class FaxcoreConfig:
    """The whole configuration; see ``deploy/faxcore.example.yaml``."""

    data_dir: Path = field(default_factory=_default_data_dir)
    log_level: str = "INFO"
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    asterisk: AsteriskConfig = field(default_factory=AsteriskConfig)
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    fax: FaxConfig = field(default_factory=FaxConfig)
    voicemail: VoicemailConfig = field(default_factory=VoicemailConfig)
    send: SendConfig = field(default_factory=SendConfig)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)
    # Sections of the distribution's plugins (the lab's ``lab:``), typed by each
    # plugin's dataclass and keyed by section name; not a key of the file itself.
    plugins: dict[str, Any] = field(default_factory=lambda: {
        name: section() for name, section in plugin_sections().items()})

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL, SQLite in ``data_dir`` unless configured."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'faxcore.db'}"

    @property
    def trunk_dial(self) -> str:
        """How a number that is no line is dialled (``{number}``, ``{digits}``); "": no route."""
        if self.send.trunk_endpoint:
            return self.send.trunk_endpoint
        return f"PJSIP/{{number}}@{self.trunk.name}" if self.trunk.name else ""

    @property
    def fax_dir(self) -> Path:
        """Where received faxes are stored."""
        return Path(self.fax.storage_dir).expanduser() if self.fax.storage_dir \
            else self.data_dir / "faxes"


@dataclass(frozen=True)
class Bounds:
    """Inclusive range of a numeric setting (``high`` None: no upper bound)."""

    low: float
    high: float | None = None

    def check(self, key: str, value: float) -> None:
        """Refuse ``value`` outside the range, naming ``key`` (``ConfigError``)."""
        too_high = self.high is not None and value > self.high
        if not math.isfinite(value) or value < self.low or too_high:
            raise ConfigError(f"{key}: {value!r} is out of range: it must be {self.describe()}")

    def describe(self) -> str:
        if self.high is None:
            return f"at least {self.low:g}"
        return f"between {self.low:g} and {self.high:g}"


_PORT = Bounds(0, 65535)
_LISTEN_PORT = Bounds(1, 65535)
# Every numeric setting and what it may be: a value outside is refused at load,
# naming the key (``tests/test_config.py`` checks no numeric key is missing).
BOUNDS: dict[str, Bounds] = {
    "events.keep_days": Bounds(0),
    "events.prune_interval_seconds": Bounds(1),
    "smtp.timeout": Bounds(1),
    "notify.max_attachment_mb": Bounds(0),
    "notify.max_attempts": Bounds(1),
    "notify.retry_initial": Bounds(1),
    "notify.retry_max": Bounds(1),
    "notify.poll_interval": Bounds(0.05, 3600),
    "media.audiosocket_port": _PORT,
    "fax.max_call_seconds": Bounds(30),
    "voicemail.max_message_seconds": Bounds(1),
    "voicemail.silence_seconds": Bounds(0),
    "voicemail.min_message_ms": Bounds(0),
    "voicemail.max_messages": Bounds(1),
    "voicemail.max_storage_mb": Bounds(1),
    "voicemail.nearly_full_percent": Bounds(1, 100),
    "voicemail.retention_days": Bounds(1),
    "voicemail.retention_interval_seconds": Bounds(1),
    "voicemail.pin_lockout_failures": Bounds(1),
    "voicemail.pin_lockout_seconds": Bounds(1),
    "fax.password_lockout_failures": Bounds(1),
    "fax.password_lockout_seconds": Bounds(1),
    "send.max_attempts": Bounds(1),
    "send.retry_initial": Bounds(1),
    "send.retry_max": Bounds(1),
    "send.lease": Bounds(1),
    "send.max_concurrent": Bounds(1),
    "send.max_per_line": Bounds(1),
    "send.poll_interval": Bounds(0.05, 3600),
    "send.ring_timeout": Bounds(1, 600),
    "documents.max_pages": Bounds(1, 10000),
    "documents.max_file_mb": Bounds(1),
    "documents.tool_timeout": Bounds(1),
    "documents.tool_cpu_seconds": Bounds(1),
    "documents.tool_memory_mb": Bounds(256),
    "documents.tool_file_mb": Bounds(1),
    "documents.work_mb": Bounds(16),
    "documents.max_unpacked_mb": Bounds(1),
}
# Pairs (smaller, larger) of settings that must keep that order.
ORDERED = (("notify.retry_initial", "notify.retry_max"), ("send.retry_initial", "send.retry_max"))


def _value(config: FaxcoreConfig, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def check_bounds(config: FaxcoreConfig) -> None:
    """Refuse the first numeric setting out of its range, naming the key (``ConfigError``)."""
    for key, bounds in BOUNDS.items():
        bounds.check(key, _value(config, key))
    for low_key, high_key in ORDERED:
        if _value(config, low_key) > _value(config, high_key):
            raise ConfigError(f"{high_key}: {_value(config, high_key)!r} is less than "
                              f"{low_key} ({_value(config, low_key)!r})")


def _coerce(value: Any, target: Any, where: str) -> Any:
    """Turn a YAML or environment value into the dataclass field's type."""
    if dataclasses.is_dataclass(target):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _build(target, value, where)
    origin = typing.get_origin(target)
    if origin in (typing.Union, types.UnionType):
        target = next(a for a in typing.get_args(target) if a is not type(None))
    try:
        if target is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if target is Path:
            return Path(str(value)).expanduser()
        if target in (int, float) and isinstance(value, bool):
            raise ValueError(value)  # YAML's yes/no is not a number
        if target in (int, float, str):
            return target(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {value!r} is not a valid {target.__name__}") from exc
    raise ConfigError(f"{where}: unsupported type {target!r}")


def _build(cls: Any, data: Mapping[str, Any], where: str, **built: Any) -> Any:
    """``cls`` from ``data``, each value coerced to its field's type; ``built`` as given."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown key {unknown[0]!r}")
    kwargs = {
        key: _coerce(value, hints[key], f"{where}.{key}" if where else key)
        for key, value in data.items()
    }
    return cls(**kwargs, **built)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Map ``FAXCORE_SECTION_KEY`` variables onto the config tree."""
    hints = {**typing.get_type_hints(FaxcoreConfig), **plugin_sections()}
    hints.pop("plugins")
    sections = {n for n, t in hints.items() if dataclasses.is_dataclass(t)}
    result: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("FAXCORE_") or name.startswith(_NOT_CONFIG_PREFIXES):
            continue
        key = name[len("FAXCORE_"):].lower()
        if key in hints and key not in sections:
            result[key] = value
            continue
        section = next((s for s in sections if key.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(f"{name}: no such configuration key")
        sub_key = key[len(section) + 1:]
        sub_names = {f.name for f in dataclasses.fields(hints[section])}
        if sub_key not in sub_names:
            raise ConfigError(f"{name}: no key {sub_key!r} in section {section!r}")
        result.setdefault(section, {})[sub_key] = value
    return result


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def find_config_file(explicit: str | os.PathLike[str] | None = None,
                     environ: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: explicit, ``FAXCORE_CONFIG``, or the first default that exists."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("FAXCORE_CONFIG"):
        return Path(env["FAXCORE_CONFIG"])
    return next((p for p in DEFAULT_CONFIG_PATHS if p.exists()), None)


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> FaxcoreConfig:
    """Read the YAML file (if any), apply ``FAXCORE_*`` overrides, validate."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    file = find_config_file(path, env)
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"{file}: configuration file not found") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: invalid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: top level must be a mapping")
        data = loaded
    data = _merge(data, _env_overrides(env))
    if "plugins" in data:
        raise ConfigError("config: unknown key 'plugins'")
    sections = plugin_sections()
    plugins = {name: _coerce(data.pop(name, {}), section, name)
               for name, section in sections.items()}
    config: FaxcoreConfig = _build(FaxcoreConfig, data, "", plugins=plugins)
    check_bounds(config)
    check_trunk(config.trunk)
    _check_prefixes("send.barred_prefixes", config.send.barred)
    return config
