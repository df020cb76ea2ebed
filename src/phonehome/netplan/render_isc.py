"""ISC dhcpd (``dhcpd.conf``): the scope, and option 43 in a class matching option 60 MS-UC-Client.

Options 119 and 120 are declared as raw strings and given in hex, so dhcpd sends the codecs' bytes.
"""

from __future__ import annotations

from phonehome.netplan.opt_addresses import AddressList
from phonehome.netplan.opt_names import DomainName, DomainSearch, SipServers
from phonehome.netplan.optionbase import Option
from phonehome.netplan.options import value_of
from phonehome.netplan.render_dnsmasq import colon_hex
from phonehome.netplan.site import DhcpPlan

_NAMES = {3: "routers", 6: "domain-name-servers", 15: "domain-name", 42: "ntp-servers"}
_RAW = {119: "ms-domain-search", 120: "ms-uc-sip-server"}


def _line(option: Option) -> str:
    if isinstance(option, AddressList):
        return f"option {_NAMES[option.code]} {', '.join(str(a) for a in option.addresses)};"
    if isinstance(option, DomainName):
        return f'option {_NAMES[option.code]} "{option.to_text()}";'
    return f"option {_RAW[option.code]} {colon_hex(value_of(option))};"


def _why(option: Option) -> str:
    if isinstance(option, DomainSearch):
        return f"option 119 search list {option.to_text()} (RFC 3397, compressed)"
    if isinstance(option, SipServers):
        return f"option 120 SIP registrar {option.to_text()} (RFC 3361)"
    return f"option {option.code}: {option.to_text()}"


def render_isc(plan: DhcpPlan) -> str:
    codes = {o.code for o in plan.options}
    lines = ["# phonehome netplan: DHCP for Lync Phone Edition phones (ISC dhcpd)."]
    if 119 in codes:
        lines.append("option ms-domain-search code 119 = string;")
    lines.append("option ms-uc-sip-server code 120 = string;")
    vendor = plan.vendor_options
    lines += [
        "",
        f"# option 60 {plan.vendor_class!r} (case-sensitive): these phones get option 43,",
        f"# the Certificate Provisioning URL {vendor.url}",
        f'class "{plan.vendor_class}" {{',
        f'  match if option vendor-class-identifier = "{plan.vendor_class}";',
        f"  option vendor-encapsulated-options {colon_hex(value_of(vendor))};",
        "}",
        "",
        f"subnet {plan.subnet.network_address} netmask {plan.subnet.netmask} {{",
        "  # dhcpd answers a phone's DHCPINFORM (how it asks for options 43 and 120) only when authoritative",
        "  authoritative;",
        f"  range {plan.pool_start} {plan.pool_end};",
        f"  default-lease-time {plan.lease_seconds};",
        f"  max-lease-time {plan.lease_seconds};",
    ]
    for option in plan.options:
        lines += [f"  # {_why(option)}", f"  {_line(option)}"]
    lines.append("}")
    return "\n".join(lines) + "\n"
