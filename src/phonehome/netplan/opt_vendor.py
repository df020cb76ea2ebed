"""Option 60 (vendor class) and option 43 for vendor class ``MS-UC-Client`` (Lync Phone Edition).

Option 43 is the TLVs of sub-options 1-5 in that order, each value raw ASCII without NUL, the port
as ASCII text (``343433`` is "443"), exactly as DHCPUtil.exe prints it. The phone builds its
Certificate Provisioning URL as ``<scheme>://<fqdn>:<port><path>``.
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from phonehome.netplan.errors import BadValue
from phonehome.netplan.optionbase import Option, OptionCode, as_ascii, as_name, name_text
from phonehome.netplan.wire import Parser

MS_UC_CLIENT = "MS-UC-Client"
CERT_PROV_PATH = "/CertProv/CertProvisioningService.svc"


@dataclass(frozen=True, slots=True)
class VendorClass(Option):
    """Option 60: what the client says it is; case-sensitive (``MS-UC-Client``)."""

    code = OptionCode.VENDOR_CLASS_IDENTIFIER
    identifier: str

    def __init__(self, identifier: str) -> None:
        object.__setattr__(self, "identifier", as_ascii(identifier, "vendor-class-identifier"))

    def to_wire(self) -> bytes:
        return self.identifier.encode("ascii")

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        return cls(parser.get_remaining().decode("latin-1"))

    def to_text(self) -> str:
        return self.identifier

    @classmethod
    def from_text(cls, text: str) -> Self:
        return cls(text)


class UcSubOption(enum.IntEnum):
    """Sub-option codes, named as DHCPConfigScript.bat defines them."""

    UC_IDENTIFIER = 1
    URL_SCHEME = 2
    WEB_SERVER_FQDN = 3
    WEB_SERVER_PORT = 4
    CERT_PROV_REL_PATH = 5


@dataclass(frozen=True, slots=True)
class MsUcClient(Option):
    """Option 43 for ``MS-UC-Client``: where the phone finds the Certificate Provisioning service."""

    code = OptionCode.VENDOR_ENCAPSULATED_OPTIONS
    web_server_fqdn: str
    web_server_port: str = "443"
    url_scheme: str = "https"
    cert_prov_path: str = CERT_PROV_PATH
    uc_identifier: str = MS_UC_CLIENT
    # Sub-options other than 1-5, kept so that decode → encode gives the same bytes.
    extra: tuple[tuple[int, bytes], ...] = ()

    def __init__(
        self,
        web_server_fqdn: str,
        web_server_port: str | int = "443",
        url_scheme: str = "https",
        cert_prov_path: str = CERT_PROV_PATH,
        uc_identifier: str = MS_UC_CLIENT,
        extra: Iterable[tuple[int, bytes]] = (),
    ) -> None:
        fqdn = name_text(as_name(web_server_fqdn, "web server FQDN (option 43 sub-option 3)"))
        port = str(web_server_port)
        if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535 or port != str(int(port)):
            raise BadValue(f"web server port (option 43 sub-option 4): {port!r} is not a port 1..65535")
        scheme = as_ascii(url_scheme, "URL scheme (option 43 sub-option 2)")
        if scheme not in ("http", "https"):
            raise BadValue(f"URL scheme (option 43 sub-option 2): {scheme!r} is not http or https")
        path = as_ascii(cert_prov_path, "Cert Prov path (option 43 sub-option 5)")
        if not path.startswith("/") or any(c in path for c in " \t\r\n"):
            raise BadValue(
                f"Cert Prov path (option 43 sub-option 5): {path!r} must start with / and hold no spaces"
            )
        extras = tuple((int(c), bytes(v)) for c, v in extra)
        for sub, value in extras:
            if sub in UcSubOption.__members__.values() or not 0 < sub < 255 or len(value) > 255:
                raise BadValue(f"option 43: bad extra sub-option {sub}")
        object.__setattr__(self, "web_server_fqdn", fqdn)
        object.__setattr__(self, "web_server_port", port)
        object.__setattr__(self, "url_scheme", scheme)
        object.__setattr__(self, "cert_prov_path", path)
        object.__setattr__(self, "uc_identifier", as_ascii(uc_identifier, "UC identifier (sub-option 1)"))
        object.__setattr__(self, "extra", extras)

    @property
    def url(self) -> str:
        return f"{self.url_scheme}://{self.web_server_fqdn}:{self.web_server_port}{self.cert_prov_path}"

    def sub_options(self) -> list[tuple[int, bytes]]:
        known = [
            (UcSubOption.UC_IDENTIFIER, self.uc_identifier),
            (UcSubOption.URL_SCHEME, self.url_scheme),
            (UcSubOption.WEB_SERVER_FQDN, self.web_server_fqdn),
            (UcSubOption.WEB_SERVER_PORT, self.web_server_port),
            (UcSubOption.CERT_PROV_REL_PATH, self.cert_prov_path),
        ]
        return [(int(c), v.encode("ascii")) for c, v in known] + list(self.extra)

    def to_wire(self) -> bytes:
        for sub, value in self.sub_options():
            if len(value) > 255:
                raise BadValue(f"option 43 sub-option {sub} is {len(value)} octets; the limit is 255")
        return b"".join(bytes([sub, len(value)]) + value for sub, value in self.sub_options())

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        known: dict[int, str] = {}
        extra: list[tuple[int, bytes]] = []
        while parser.remaining():
            sub = parser.get_uint8()
            value = parser.get_counted_bytes()
            if sub in UcSubOption.__members__.values():
                if sub in known:
                    raise BadValue(f"option 43: sub-option {sub} appears twice")
                known[sub] = value.decode("latin-1")
            else:
                extra.append((sub, value))
        missing = [str(int(s)) for s in UcSubOption if s not in known]
        if missing:
            raise BadValue(f"option 43 for MS-UC-Client: sub-option(s) {', '.join(missing)} missing")
        return cls(
            web_server_fqdn=known[UcSubOption.WEB_SERVER_FQDN],
            web_server_port=known[UcSubOption.WEB_SERVER_PORT],
            url_scheme=known[UcSubOption.URL_SCHEME],
            cert_prov_path=known[UcSubOption.CERT_PROV_REL_PATH],
            uc_identifier=known[UcSubOption.UC_IDENTIFIER],
            extra=extra,
        )

    def to_text(self) -> str:
        return self.url

    @classmethod
    def from_text(cls, text: str) -> Self:
        """The Cert Prov URL, ``https://pool.contoso.com:443/CertProv/CertProvisioningService.svc``."""
        url = urllib.parse.urlsplit(text.strip())
        if not url.hostname or url.query or url.fragment:
            raise BadValue(f"option 43: {text!r} is not a Cert Prov URL")
        try:
            port = url.port
        except ValueError:
            raise BadValue(f"option 43: {text!r} has a bad port") from None
        default_port = 443 if url.scheme == "https" else 80
        return cls(url.hostname, port or default_port, url.scheme, url.path or CERT_PROV_PATH)
