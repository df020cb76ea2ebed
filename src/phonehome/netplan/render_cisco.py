"""Cisco IOS ``ip dhcp pool`` commands.

IOS cannot choose option 43 by option 60, so the pool sends it to every client (other phones ignore
a vendor option they did not ask for). IOS 15.1(3)S and later silently truncate ``option 43 hex`` at
180 hex characters, which happens once the web services FQDN passes 23 characters; longer values
use ``option ext 43 hex``.
"""

from __future__ import annotations

from phonehome.netplan.opt_addresses import AddressList
from phonehome.netplan.optionbase import Option, OptionCode
from phonehome.netplan.options import value_of
from phonehome.netplan.site import DhcpPlan

POOL_NAME = "LYNC-PHONES"
IOS_HEX_LIMIT = 180


def option_43_command(value: bytes) -> str:
    text = value.hex()
    keyword = "option ext 43 hex" if len(text) > IOS_HEX_LIMIT else "option 43 hex"
    return f"{keyword} {text}"


def _line(option: Option) -> str:
    if option.code == OptionCode.ROUTER and isinstance(option, AddressList):
        return "default-router " + " ".join(str(a) for a in option.addresses)
    if option.code == OptionCode.DOMAIN_NAME_SERVER and isinstance(option, AddressList):
        return "dns-server " + " ".join(str(a) for a in option.addresses)
    if option.code == OptionCode.DOMAIN_NAME:
        return f"domain-name {option.to_text()}"
    if isinstance(option, AddressList):
        return f"option {option.code} ip " + " ".join(str(a) for a in option.addresses)
    return f"option {option.code} hex {value_of(option).hex()}"


def render_cisco(plan: DhcpPlan) -> str:
    vendor = plan.vendor_options
    days, rest = divmod(plan.lease_seconds, 86400)
    hours, rest = divmod(rest, 3600)
    first, last = plan.subnet.network_address + 1, plan.subnet.broadcast_address - 1
    lines = ["! phonehome netplan: DHCP for Lync Phone Edition phones (Cisco IOS)"]
    # IOS leases the whole network; the addresses outside the planned range are excluded.
    if plan.pool_start > first:
        lines.append(f"ip dhcp excluded-address {first} {plan.pool_start - 1}")
    if plan.pool_end < last:
        lines.append(f"ip dhcp excluded-address {plan.pool_end + 1} {last}")
    lines += [
        f"ip dhcp pool {POOL_NAME}",
        f" network {plan.subnet.network_address} {plan.subnet.netmask}",
        f" lease {days} {hours} {rest // 60}",
    ]
    for option in plan.options:
        lines += [
            f" ! option {option.code} ({OptionCode.label(option.code)}): {option.to_text()}",
            f" {_line(option)}",
        ]
    hex_len = len(value_of(vendor).hex())
    lines.append(f" ! option 43 (MS-UC-Client): {vendor.url}; {hex_len} hex characters")
    if hex_len > IOS_HEX_LIMIT:
        lines.append(f" ! over {IOS_HEX_LIMIT}: 'option 43 hex' would be truncated silently by IOS 15.1(3)S+")
    lines.append(f" {option_43_command(value_of(vendor))}")
    return "\n".join(lines) + "\n"
