"""The 46xxsettings.txt lines that point Avaya phones at this server (pure).

MYCERTURL is the SCEP URL; MYCERTCN must contain a macro and is the end-entity name (the account the
challenge was made for); TRUSTCERTS names the CA file the phone downloads from the file server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AvayaSettings:
    scep_url: str
    backup_url: str
    trust_file: str = "phonehome-ca.pem"
    common_name: str = "$SERIALNO"
    distinguished_name: str = "/O=phonehome"
    key_bits: int = 2048
    renew_percent: int = 90
    wait: bool = False


def _quote(value: str) -> str:
    if any(c in value for c in '"\r\n'):
        raise ValueError(f"a 46xxsettings value cannot contain quotes or newlines: {value!r}")
    return f'"{value}"' if any(c.isspace() for c in value) or not value else value


def render_settings(settings: AvayaSettings) -> str:
    lines = [
        "## phonehome: identity certificate by SCEP, trust for HTTPS, backup/restore",
        f"SET MYCERTURL {_quote(settings.scep_url)}",
        f"SET MYCERTCN {_quote(settings.common_name)}",
        f"SET MYCERTDN {_quote(settings.distinguished_name)}",
        f"SET MYCERTKEYLEN {settings.key_bits}",
        f"SET MYCERTRENEW {settings.renew_percent}",
        f"SET MYCERTWAIT {1 if settings.wait else 0}",
        f"SET TRUSTCERTS {_quote(settings.trust_file)}",
        f"SET BRURI {_quote(settings.backup_url)}",
    ]
    return "\n".join(lines) + "\n"
