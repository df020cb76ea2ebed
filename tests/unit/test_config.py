from __future__ import annotations

from pathlib import Path

import pytest

from phonehome.config import ListenAddress, load_settings
from phonehome.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "phonehome.toml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.http == "0.0.0.0:8080"
    assert settings.https == "0.0.0.0:8443"
    assert settings.admin == "127.0.0.1:8081"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("phonehome-data/phonehome.db")


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'http = "127.0.0.1:1001"\nhttps = "127.0.0.1:1002"\nadmin = "127.0.0.1:1003"\n')
    env = {"PHONEHOME_HTTPS": "127.0.0.1:2002", "PHONEHOME_ADMIN": "127.0.0.1:2003"}
    settings = load_settings(flags={"admin": "127.0.0.1:3003", "http": None}, environ=env, config_file=cfg)
    assert settings.http == "127.0.0.1:1001"  # file
    assert settings.https == "127.0.0.1:2002"  # env beats file
    assert settings.admin == "127.0.0.1:3003"  # flag beats env


def test_env_aliases_sections_and_lists(tmp_path: Path) -> None:
    env = {
        "PHONEHOME_DATA": str(tmp_path / "d"),
        "PHONEHOME_DB": "postgresql://x@h/db",
        "PHONEHOME_SERVER_NAMES": "ucupdates-r2.contoso.com, ucupdates-r2",
        "PHONEHOME_TLS__MIN_VERSION": "TLSv1.3",
        "PHONEHOME_UNRELATED": "ignored",
    }
    settings = load_settings(environ=env)
    assert settings.data_dir == tmp_path / "d"
    assert settings.db_url == "postgresql://x@h/db"
    assert settings.server_names == ["ucupdates-r2.contoso.com", "ucupdates-r2"]
    assert settings.tls.min_version == "TLSv1.3"


def test_config_file_found_in_data_dir(tmp_path: Path) -> None:
    (tmp_path / "phonehome.toml").write_text('server_names = ["a.example"]\n')
    assert load_settings(flags={"data_dir": tmp_path}, environ={}).server_names == ["a.example"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus = 1\n", "unknown config key 'bogus'"),
        ("[tls]\nnope = 2\n", "unknown config key 'tls.nope'"),
        ('http = "nonsense"\n', "invalid value for 'http'"),
        ('server_ips = ["300.1.1.1"]\n', "invalid value for 'server_ips'"),
        ("[tls\n", "phonehome.toml"),
    ],
)
def test_bad_file_names_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    cfg = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, config_file=cfg)
    assert message in info.value.reason
    assert str(cfg) in info.value.reason
    assert info.value.exit_code == 2


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={}, config_file=tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [("127.0.0.1:80", "127.0.0.1", 80), (":8080", "0.0.0.0", 8080), ("[::1]:0", "::1", 0)],
)
def test_listen_address(text: str, host: str, port: int) -> None:
    assert ListenAddress.parse(text) == ListenAddress(host, port)


@pytest.mark.parametrize("text", ["127.0.0.1", "host:port", "h:70000", "[zz]:1"])
def test_bad_listen_address(text: str) -> None:
    with pytest.raises(ValueError):
        ListenAddress.parse(text)
