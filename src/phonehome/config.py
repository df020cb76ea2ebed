"""One typed settings tree: TOML file + ``PHONEHOME_*`` environment + CLI flags.

Precedence is flag > environment > file > default. The environment is passed in as a mapping
(nothing here reads ``os.environ`` at import), so tests build settings from plain dicts.

Environment names: ``PHONEHOME_DATA``, ``PHONEHOME_DB``, ``PHONEHOME_HTTP``, ``PHONEHOME_HTTPS``,
``PHONEHOME_ADMIN``, ``PHONEHOME_CONFIG``, any other top-level key as ``PHONEHOME_<KEY>`` and a key of
a section as ``PHONEHOME_<SECTION>__<KEY>`` (``PHONEHOME_BACKUPS__REALM``). List values are comma
separated. Unknown ``PHONEHOME_*`` variables are ignored (they may belong to tools around us); an
unknown key in the file is an error naming the key and the file.
"""

from __future__ import annotations

import ipaddress
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from phonehome.errors import ConfigError

DEFAULT_DATA_DIR = Path("phonehome-data")
CONFIG_FILE_NAME = "phonehome.toml"
ENV_PREFIX = "PHONEHOME_"

# Short environment names for the options every admin types.
_ENV_ALIASES = {
    "DATA": "data_dir",
    "DB": "db_url",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (all addresses)."""
        text = text.strip()
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError(f"expected HOST:PORT, got {text!r}")
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ValueError(f"port out of range in {text!r}")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            ipaddress.IPv6Address(host)
        host = host or "0.0.0.0"
        return cls(host, port)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class TlsSettings(_Section):
    # PEM files of CAs whose client certificates the HTTPS listener accepts; empty = phonehome's own CA.
    client_ca_files: list[Path] = []
    min_version: Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    # How often the listener looks for a renewed certificate on disk (seconds, 0 = only on SIGHUP).
    reload_interval: float = 5.0


class AdminSettings(_Section):
    token_ttl_hours: float = 24 * 30


class UpdatesSettings(_Section):
    """Device Update Service settings (the updates slice owns these keys)."""

    # Named IP subnets, e.g. {"Redmond" = ["10.1.0.0/16"]}: test devices can be scoped to a site.
    sites: dict[str, list[str]] = {}
    # OCS 2007 behaviour: external check-ins without a client certificate. Insecure; only while old
    # phones deployed under OCS 2007 are brought up to date.
    anonymous_external: bool = False
    # Client version filter lines, e.g. ["OCPhone >= 1.0.199.*"]; an empty list lets every device in.
    client_version_filter: list[str] = []
    # Server name in RequestHandlerAuditLog_<server>_<YYYYMMDD>.log (default: the host name).
    server_name: str = ""
    # Where phones download from; default: derived from the Host the phone used.
    internal_url: str = ""
    external_url: str = ""
    # "ocs2007r2": /DeviceUpdateFiles_Int|_Ext/…; "lync": /RequestHandler/Files/… in BaseURL.
    url_layout: Literal["ocs2007r2", "lync"] = "ocs2007r2"
    # ServerVersion / ServiceVersion reported in the check-in response.
    server_version: str = "3.5.6907.0"
    # Raw check-in bodies kept per model for capture analysis (newest N); 0 keeps none.
    sample_bodies_per_model: int = 20
    # Check-ins answer from an in-memory catalog of rules, images and test devices; changes made on
    # another node or by the CLI reach it within this many seconds (0: checked on every check-in).
    catalog_refresh_seconds: float = Field(default=1.0, ge=0)
    sample_models: int = 200
    # A different check-in response template (XML with {placeholders}); empty = the built-in one.
    response_template: Path | None = None
    # Largest firmware package `firmware import` unpacks (bytes).
    max_package_size: int = 2 << 30


class BackupsSettings(_Section):
    """BRURI backup/restore settings (the backups slice owns these keys)."""

    # URL path under which phones PUT/GET their files (BRURI = http(s)://host:port<prefix>).
    prefix: str = "/backup/"
    # Phones store credentials per realm and re-prompt the user when it changes: keep it fixed.
    realm: str = "phonehome backups"
    keep_versions: int = 20
    max_size: int = 1 << 20
    # Bytes of retained versions per account (0 = no quota).
    quota: int = 64 << 20
    # Some Avaya firmware starts automatic backup only after one successful retrieval.
    empty_200_for_missing: bool = False
    # The PSN's insecure mode: one account that may touch every file. Off unless named here.
    legacy_shared_account: str = ""
    # Client certificate name (CN, DNS/URI/e-mail SAN) → account; CN = account name needs no entry.
    cert_accounts: dict[str, str] = {}
    # Polycom <mac>-app.log / -boot.log uploads are appended; the stored log keeps this many tail bytes.
    log_cap: int = 256 << 10
    # Failed Basic logins allowed per source address and per account within the window, then 429.
    max_failures: int = 10
    failure_window: float = 60.0
    # How long a verified (user, password) pair skips the argon2 verify.
    credential_cache_seconds: float = 300.0
    # PostgreSQL: how stale (ms) a node's cache of current versions may get behind another node's or
    # the CLI's change (its own changes apply at once). SQLite checks on every GET and needs no bound.
    current_check_ms: int = 100

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.startswith("/") or not value.endswith("/") or "//" in value or ".." in value:
            raise ValueError("prefix must start and end with '/', e.g. /backup/")
        return value

    @field_validator("realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        if not value or any(c in value for c in '"\\') or not value.isprintable():
            raise ValueError("realm must be printable text without quotes or backslashes")
        return value

    @field_validator("keep_versions", "max_size", "log_cap", "max_failures")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value


class PkiSettings(_Section):
    """CA, server certificate and SCEP settings (the pki slice owns these keys)."""

    # DHCP domains (option 15/119) phones append to ucupdates-r2: each gives a SAN ucupdates-r2.<domain>.
    dhcp_domains: list[str] = []
    # Signature hash for certificates phonehome signs. "sha1" is the legacy profile for CX700 1.0.x
    # (OCS 2007 R2) firmware, which cannot verify SHA-2; modern TLS clients refuse it.
    signature_hash: Literal["sha256", "sha384", "sha512", "sha1"] = "sha256"
    key_bits: int = Field(default=2048, ge=2048, le=4096)
    server_cert_days: int = Field(default=825, ge=1, le=3650)
    device_cert_days: int = Field(default=730, ge=1, le=3650)
    # A file holding the passphrase the CA key is encrypted with (none: the key is stored in clear, 0600).
    ca_key_passphrase_file: Path | None = None
    # SCEP (Avaya MYCERTURL points here); served on both phone listeners.
    scep_path: str = "/scep"
    # One challenge for every device: an explicit opt-in (per-device one-time challenges are the default).
    scep_shared_challenge: str = ""
    scep_challenge_hours: float = Field(default=24.0, gt=0)
    scep_min_key_bits: int = Field(default=2048, ge=1024, le=8192)
    # Requests without a challenge wait for `phonehome pki scep-approve` instead of failing.
    scep_allow_pending: bool = False

    @field_validator("scep_path")
    @classmethod
    def _scep_path(cls, value: str) -> str:
        if not value.startswith("/") or value.rstrip("/") in ("", "/certsrv", "/CertProv", "/healthz"):
            raise ValueError("must be an absolute URL path of its own, e.g. /scep")
        return value.rstrip("/")


class SiteSettings(_Section):
    """The network site description used by netplan and doctor (checked by netplan.site)."""

    # The phones' DHCP scope.
    subnet: str = ""  # "192.0.2.0/24"
    pool_start: str = ""
    pool_end: str = ""
    routers: list[str] = []  # option 3
    lease_seconds: int = 86400
    dhcp_interfaces: list[str] = []  # Kea/dnsmasq listen interfaces; empty = all
    # What phones learn from DHCP.
    dhcp_domain: str = ""  # option 15; phones look up ucupdates-r2.<dhcp_domain>
    search_domains: list[str] = []  # option 119
    dns_servers: list[str] = []  # option 6
    ntp_servers: list[str] = []  # option 42
    # Lync/OCS.
    sip_domains: list[str] = []  # right-hand side of sign-in addresses
    registrar_fqdn: str = ""  # pool FQDN: option 120 and _sipinternaltls._tcp
    registrar_ips: list[str] = []
    web_services_fqdn: str = ""  # option 43 sub-option 3; default registrar_fqdn
    web_services_port: int = 443
    web_services_ips: list[str] = []
    update_server_ips: list[str] = []  # ucupdates-r2; default server_ips, then registrar_ips
    time_source: str = "time.windows.com"  # _ntp._udp target
    external_time_source: str = ""  # default time_source
    autodiscover_ips: list[str] = []  # internal Exchange CAS
    external_autodiscover_ips: list[str] = []
    access_edge_fqdn: str = ""
    access_edge_ips: list[str] = []  # external
    reverse_proxy_fqdn: str = ""
    reverse_proxy_ips: list[str] = []  # external
    external_web_services_fqdn: str = ""
    external_nameservers: list[str] = []  # NS of the external zones
    external_nameserver_ips: list[str] = []  # glue, when those names are inside the zone


class Settings(_Section):
    data_dir: Path = DEFAULT_DATA_DIR
    db_url: str | None = None
    http: str = "0.0.0.0:8080"
    https: str = "0.0.0.0:8443"
    admin: str = "127.0.0.1:8081"
    # Names phones use for this server: FQDNs and short names such as ucupdates-r2.
    server_names: list[str] = []
    server_ips: list[str] = []
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Bound on how long in-flight requests may finish after SIGTERM.
    shutdown_timeout: float = 10.0
    tls: TlsSettings = TlsSettings()
    admin_api: AdminSettings = AdminSettings()
    updates: UpdatesSettings = UpdatesSettings()
    backups: BackupsSettings = BackupsSettings()
    pki: PkiSettings = PkiSettings()
    site: SiteSettings = SiteSettings()

    @field_validator("http", "https", "admin")
    @classmethod
    def _listen(cls, value: str) -> str:
        ListenAddress.parse(value)
        return value

    @field_validator("server_ips")
    @classmethod
    def _ips(cls, value: list[str]) -> list[str]:
        for ip in value:
            ipaddress.ip_address(ip)
        return value

    @property
    def http_listen(self) -> ListenAddress:
        return ListenAddress.parse(self.http)

    @property
    def https_listen(self) -> ListenAddress:
        return ListenAddress.parse(self.https)

    @property
    def admin_listen(self) -> ListenAddress:
        return ListenAddress.parse(self.admin)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite+aiosqlite:///{(self.data_dir / 'phonehome.db').resolve()}"


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _section_model(name: str) -> type[BaseModel] | None:
    field = Settings.model_fields.get(name)
    if field is None:
        return None
    ann = field.annotation
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _coerce_env(model: type[BaseModel], key: str, value: str) -> Any:
    field = model.model_fields.get(key)
    if field is not None and _is_list(field.annotation):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings that ``PHONEHOME_*`` variables give, as a nested dict."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :]
        if "__" in key:
            section, _, sub = key.partition("__")
            model = _section_model(section.lower())
            if model is None or sub.lower() not in model.model_fields:
                continue
            out.setdefault(section.lower(), {})[sub.lower()] = _coerce_env(model, sub.lower(), value)
            continue
        field = _ENV_ALIASES.get(key, key.lower())
        if field in Settings.model_fields and _section_model(field) is None:
            out[field] = _coerce_env(Settings, field, value)
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from exc


def _explain(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"])
    if err["type"] == "extra_forbidden":
        return ConfigError(f"unknown config key '{key}' in {source}")
    return ConfigError(f"invalid value for '{key}' in {source}: {err['msg']}")


def load_settings(
    *,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the settings: ``flags`` (only the ones given) > ``environ`` > ``config_file`` > defaults.

    Without an explicit file, ``PHONEHOME_CONFIG`` names one; else ``<data dir>/phonehome.toml`` is read
    when it exists.
    """
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = environ or {}
    env = env_overrides(environ)
    if config_file is None and environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(environ[ENV_PREFIX + "CONFIG"])
    if config_file is None:
        data_dir = Path(flags.get("data_dir") or env.get("data_dir") or DEFAULT_DATA_DIR)
        candidate = data_dir / CONFIG_FILE_NAME
        config_file = candidate if candidate.is_file() else None
    from_file = read_config_file(config_file) if config_file is not None else {}
    source = str(config_file) if config_file is not None else "settings"
    try:
        Settings.model_validate(from_file)
    except ValidationError as exc:
        raise _explain(exc, source) from exc
    try:
        return Settings.model_validate(_merge(_merge(from_file, env), flags))
    except ValidationError as exc:
        raise _explain(exc, "the environment or the command line") from exc
