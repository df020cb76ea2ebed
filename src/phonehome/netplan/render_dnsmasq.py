"""dnsmasq ``dhcp-*`` lines for the phones' scope (load with ``conf-file=`` or into ``conf-dir``).

Option 120 and 43 are hex, so dnsmasq sends the codecs' bytes. dnsmasq refuses hex for option 119
("bad domain") and compresses the names itself; the peer tests check its bytes equal ours.
"""

from __future__ import annotations

from phonehome.netplan.opt_addresses import AddressList
from phonehome.netplan.opt_names import DomainName, DomainSearch, SipServers
from phonehome.netplan.optionbase import Option, OptionCode
from phonehome.netplan.options import value_of
from phonehome.netplan.site import DhcpPlan

TAG = "ms-uc-client"


def colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def _option_line(option: Option) -> str:
    if isinstance(option, AddressList):
        return f"dhcp-option={option.code},{option.to_text()}"
    if isinstance(option, DomainName):
        return f"dhcp-option={option.code},{option.to_text()}"
    if isinstance(option, DomainSearch):
        return f"dhcp-option={option.code}," + ",".join(n.to_text(True) for n in option.names)
    return f"dhcp-option={option.code},{colon_hex(value_of(option))}"


def _why(option: Option) -> str:
    if isinstance(option, DomainSearch):
        return f"search list {option.to_text()} (RFC 3397, compressed)"
    if isinstance(option, SipServers):
        return f"SIP registrar {option.to_text()} (RFC 3361 encoding 0)"
    return f"{OptionCode.label(option.code)} {option.to_text()}"


def render_dnsmasq(plan: DhcpPlan) -> str:
    lines = [
        "# phonehome netplan: DHCP for Lync Phone Edition phones (dnsmasq).",
        "# Options 120 and 43 are hex so dnsmasq sends these exact bytes.",
    ]
    lines += [f"interface={name}" for name in plan.interfaces]
    netmask = plan.subnet.netmask
    lines.append(f"dhcp-range={plan.pool_start},{plan.pool_end},{netmask},{plan.lease_seconds}")
    for option in plan.options:
        lines.append(f"# option {option.code}: {_why(option)}")
        lines.append(_option_line(option))
    vendor = plan.vendor_options
    lines += [
        f"# option 60 {plan.vendor_class!r} (case-sensitive) marks the phones asking for option 43",
        f"dhcp-vendorclass=set:{TAG},{plan.vendor_class}",
        f"# option 43: Certificate Provisioning URL {vendor.url}",
        f"dhcp-option=tag:{TAG},{vendor.code},{colon_hex(value_of(vendor))}",
    ]
    return "\n".join(lines) + "\n"
