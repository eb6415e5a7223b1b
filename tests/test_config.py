"""Configuration: YAML file, FAXCORE_* overrides, refusals, defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from faxcore.config import BOUNDS, FaxcoreConfig, check_bounds, load_config, plugin_sections
from faxcore.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "faxcore.example.yaml"


def _keys(cls: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for f in dataclasses.fields(cls):
        if f.name == "plugins":  # the plugins' sections, not a key of the file
            continue
        field_type = f.type if not isinstance(f.type, str) else None
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default) or dataclasses.is_dataclass(field_type):
            keys |= _keys(type(default), f"{prefix}{f.name}.")
        else:
            keys.add(prefix + f.name)
    return keys


def _yaml_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= _yaml_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faxcore.yaml"
    path.write_text(text)
    return path


def test_defaults_need_nothing_running_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path)})
    assert config.data_dir == tmp_path
    assert config.database_url == f"sqlite:///{tmp_path / 'faxcore.db'}"
    assert config.mqtt.url == ""
    assert config.log_level == "INFO"


def test_yaml_file_sets_values_and_keeps_other_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "log_level: DEBUG\ndatabase:\n  url: postgresql://u:p@h/db\n"
                            "media:\n  audiosocket_port: '9092'\n")
    config = load_config(path, environ={})
    assert config.log_level == "DEBUG"
    assert config.database_url == "postgresql://u:p@h/db"
    assert config.media.audiosocket_port == 9092
    assert config.asterisk.app == "faxcore"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "database:\n  url: postgresql://u:p@h/db\n  echo: false\n")
    config = load_config(path, environ={
        "FAXCORE_DATABASE_URL": "sqlite:////x.db", "FAXCORE_DATABASE_ECHO": "yes",
        "FAXCORE_ASTERISK_ARI_URL": "http://pbx:8088", "FAXCORE_DATA_DIR": "~/fx",
    })
    assert config.database_url == "sqlite:////x.db"
    assert config.database.echo is True
    assert config.asterisk.ari_url == "http://pbx:8088"
    assert config.data_dir == Path("~/fx").expanduser()


def test_faxcore_config_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "log_level: WARNING\n")
    assert load_config(environ={"FAXCORE_CONFIG": str(path)}).log_level == "WARNING"


def test_test_suite_variables_are_not_configuration(tmp_path: Path) -> None:
    config = load_config(environ={"FAXCORE_DATA_DIR": str(tmp_path),
                                  "FAXCORE_TEST_PG_URL": "postgresql://u@h/db"})
    assert config.data_dir == tmp_path
    assert config.database_url.startswith("sqlite:")


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("colour: blue\n", {}, "config: unknown key 'colour'"),
        ("database:\n  uri: x\n", {}, "database: unknown key 'uri'"),
        ("database: sqlite\n", {}, "database: expected a mapping, got 'sqlite'"),
        ("media:\n  audiosocket_port: many\n", {},
         "media.audiosocket_port: 'many' is not a valid int"),
        ("database:\n  echo: maybe\n", {}, "database.echo: 'maybe' is not a valid bool"),
        ("- a\n- b\n", {}, "top level must be a mapping"),
        ("a: [\n", {}, "invalid YAML"),
        ("", {"FAXCORE_COLOUR": "blue"}, "FAXCORE_COLOUR: no such configuration key"),
        ("", {"FAXCORE_DATABASE_URI": "x"}, "FAXCORE_DATABASE_URI: no key 'uri' in section "
                                            "'database'"),
    ],
)
def test_bad_keys_and_values_are_config_errors(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=environ)
    assert message in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.yaml", environ={})


def test_example_file_documents_every_key() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    plugins = {key for name, section in plugin_sections().items()
               for key in _keys(section, f"{name}.")}
    assert _yaml_keys(data) == _keys(FaxcoreConfig) | plugins
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#") and not line.rstrip().endswith(":"):
            # Each value has a comment among the lines just above it.
            assert any(t.lstrip().startswith("#") for t in lines[max(0, i - 4):i]), line


def test_example_file_holds_exactly_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert load_config(EXAMPLE, environ={}) == FaxcoreConfig()


def _numeric_keys() -> set[str]:
    config = FaxcoreConfig()
    keys = set()
    for key in _keys(FaxcoreConfig):
        section, _, name = key.partition(".")
        if name:
            value = getattr(getattr(config, section), name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                keys.add(key)
    return keys


def test_every_numeric_setting_has_bounds_that_hold_its_default() -> None:
    assert set(BOUNDS) == _numeric_keys()
    check_bounds(FaxcoreConfig())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("voicemail:\n  pin_lockout_failures: 0\n",
         "voicemail.pin_lockout_failures: 0 is out of range: it must be at least 1"),
        ("send:\n  max_concurrent: -1\n",
         "send.max_concurrent: -1 is out of range: it must be at least 1"),
        ("fax:\n  max_call_seconds: 0\n",
         "fax.max_call_seconds: 0 is out of range: it must be at least 30"),
        ("voicemail:\n  nearly_full_percent: 150\n",
         "voicemail.nearly_full_percent: 150 is out of range: it must be between 1 and 100"),
        ("media:\n  audiosocket_port: 70000\n",
         "media.audiosocket_port: 70000 is out of range: it must be between 0 and 65535"),
        ("send:\n  poll_interval: .nan\n",
         "send.poll_interval: nan is out of range: it must be between 0.05 and 3600"),
        ("documents:\n  max_pages: 0\n",
         "documents.max_pages: 0 is out of range: it must be between 1 and 10000"),
        ("send:\n  retry_initial: 600\n  retry_max: 60\n",
         "send.retry_max: 60.0 is less than send.retry_initial (600.0)"),
        ("send:\n  max_per_line: yes\n", "send.max_per_line: True is not a valid int"),
    ],
)
def test_settings_out_of_range_are_refused_naming_the_key(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), environ={})
    assert str(info.value) == message


def test_environment_values_are_range_checked_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^events.prune_interval_seconds: 0 is out of range"):
        load_config(environ={"FAXCORE_EVENTS_PRUNE_INTERVAL_SECONDS": "0",
                             "FAXCORE_DATA_DIR": str(tmp_path)})


def test_a_plugin_s_section_is_read_typed_checked_and_overridden_from_the_environment(
        tmp_path: Path) -> None:
    """The lab's ``lab:`` section: the product reads it through its entry point."""
    path = _write(tmp_path, "lab:\n  pbx_sip_port: 25060\n")
    config = load_config(path, environ={"FAXCORE_LAB_ARI_PORT": "28088"})
    lab = config.plugins["lab"]
    assert (lab.pbx_sip_port, lab.ari_port, lab.ata_sip_port) == (25060, 28088, 5070)
    with pytest.raises(ConfigError, match=r"lab\.ari_port: 0 is out of range"):
        load_config(path, environ={"FAXCORE_LAB_ARI_PORT": "0"})
    with pytest.raises(ConfigError, match="lab: unknown key 'port'"):
        load_config(_write(tmp_path, "lab:\n  port: 1\n"), environ={})
    with pytest.raises(ConfigError, match="unknown key 'plugins'"):
        load_config(_write(tmp_path, "plugins: {}\n"), environ={})
