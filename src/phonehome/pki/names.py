"""Which names the listener certificate must carry (pure).

Lync Phone Edition looks up the hard-coded ``ucupdates-r2.<DHCP domain>`` (option 15/119) and older
OCS 2007 firmware ``ucupdates.<domain>``; a phone that reaches the server through the short name
checks it too, so the certificate names the short names, each FQDN, and the configured IPs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

UPDATE_HOSTS = ("ucupdates-r2", "ucupdates")


@dataclass(frozen=True, slots=True)
class ServerNames:
    dns: tuple[str, ...]
    ips: tuple[str, ...]

    @property
    def common_name(self) -> str:
        return self.dns[0]


def _label_ok(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return (
        all(
            0 < len(label) <= 63
            and label[0] != "-"
            and label[-1] != "-"
            and all(c.isalnum() or c in "-_*" for c in label)
            for label in labels
        )
        and len(name) <= 253
    )


def check_dns_name(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if not name or not _label_ok(name):
        raise ValueError(f"not a DNS name: {name!r}")
    return name


def server_names(
    configured: Sequence[str], dhcp_domains: Sequence[str], ips: Sequence[str], fallback: Sequence[str] = ()
) -> ServerNames:
    """Configured names first (the first is the CN), then ucupdates-r2/ucupdates short and per domain."""
    names: list[str] = [check_dns_name(n) for n in configured] or [check_dns_name(n) for n in fallback]
    names += list(UPDATE_HOSTS)
    for domain in dhcp_domains:
        domain = check_dns_name(domain)
        names += [f"{host}.{domain}" for host in UPDATE_HOSTS]
    addresses = [str(ipaddress.ip_address(ip.strip())) for ip in ips]
    return ServerNames(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(addresses)))
