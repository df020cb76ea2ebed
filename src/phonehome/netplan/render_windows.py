"""Windows DHCP Server: ``netsh`` (what DHCPConfigScript.bat runs) or the DhcpServer PowerShell module.

As in DHCPConfigScript.bat, option 120 is a Binary option definition ``UCSipServer``, the vendor
class ``MSUCClient`` matches ``MS-UC-Client`` and option 43 is given as its five sub-options
(UCIdentifier … CertProvRelPath), each Binary. Option 119 is a String with semicolons, as the
CX700 guide configures it on Windows Server 2003.
"""

from __future__ import annotations

from typing import Literal

from phonehome.netplan.opt_addresses import AddressList
from phonehome.netplan.opt_names import DomainSearch
from phonehome.netplan.opt_vendor import UcSubOption
from phonehome.netplan.optionbase import Option
from phonehome.netplan.options import value_of
from phonehome.netplan.site import DhcpPlan

VENDOR_CLASS_NAME = "MSUCClient"
_SUB_NAMES = {
    UcSubOption.UC_IDENTIFIER: "UCIdentifier",
    UcSubOption.URL_SCHEME: "URLScheme",
    UcSubOption.WEB_SERVER_FQDN: "WebServerFqdn",
    UcSubOption.WEB_SERVER_PORT: "WebServerPort",
    UcSubOption.CERT_PROV_REL_PATH: "CertProvRelPath",
}


def _ps_bytes(data: bytes) -> str:
    return ",".join(f"0x{b:02X}" for b in data)


def _netsh(plan: DhcpPlan) -> list[str]:
    scope = plan.subnet.network_address
    lines = [
        "@echo off",
        "rem phonehome netplan: DHCP for Lync Phone Edition phones (netsh, as DHCPConfigScript.bat).",
        f'netsh dhcp server add scope {scope} {plan.subnet.netmask} "Lync phones"',
        f"netsh dhcp server scope {scope} add iprange {plan.pool_start} {plan.pool_end}",
        f"netsh dhcp server scope {scope} set optionvalue 51 DWORD {plan.lease_seconds}",
    ]
    for option in plan.options:
        lines.append(f"rem option {option.code}: {option.to_text()}")
        if isinstance(option, AddressList):
            ips = " ".join(str(a) for a in option.addresses)
            lines.append(f"netsh dhcp server scope {scope} set optionvalue {option.code:03d} IPADDRESS {ips}")
        elif isinstance(option, DomainSearch):
            lines.append(
                'netsh dhcp server add optiondef 119 "DNS Search List" STRING 0 comment="Domain search list"'
            )
            lines.append(f'netsh dhcp server scope {scope} set optionvalue 119 STRING "{option.to_text()}"')
        elif option.code == 120:
            lines.append('netsh dhcp server add optiondef 120 UCSipServer Binary 0 comment="Sip Server Fqdn"')
            lines.append(
                f"netsh dhcp server scope {scope} set optionvalue 120 Binary {value_of(option).hex().upper()}"
            )
        else:
            lines.append(
                f'netsh dhcp server scope {scope} set optionvalue {option.code:03d} STRING "{option.to_text()}"'
            )
    lines += [
        f"rem option 43 for vendor class {plan.vendor_class}: {plan.vendor_options.url}",
        f'netsh dhcp server add class {VENDOR_CLASS_NAME} "UC Vendor Class Id" "{plan.vendor_class}" 1',
    ]
    for code, value in plan.vendor_options.sub_options():
        name = _SUB_NAMES.get(UcSubOption(code)) if code in _SUB_NAMES else f"SubOption{code}"
        lines.append(
            f'netsh dhcp server add optiondef {code} {name} Binary 0 Vendor={VENDOR_CLASS_NAME} comment="{name}"'
        )
        lines.append(
            f"netsh dhcp server scope {scope} set optionvalue {code} Binary vendor={VENDOR_CLASS_NAME} {value.hex().upper()}"
        )
    return lines


def _powershell(plan: DhcpPlan) -> list[str]:
    scope = plan.subnet.network_address
    lease = f"{plan.lease_seconds // 86400}.{(plan.lease_seconds % 86400) // 3600:02d}:{(plan.lease_seconds % 3600) // 60:02d}:{plan.lease_seconds % 60:02d}"
    lines = [
        "# phonehome netplan: DHCP for Lync Phone Edition phones (DhcpServer module).",
        "param([string]$ComputerName = 'localhost')",
        "$ErrorActionPreference = 'Stop'",
        f"Add-DhcpServerv4Scope -ComputerName $ComputerName -Name 'Lync phones' -StartRange {plan.pool_start} "
        f"-EndRange {plan.pool_end} -SubnetMask {plan.subnet.netmask} -LeaseDuration {lease}",
    ]
    target = f"-ComputerName $ComputerName -ScopeId {scope}"
    for option in plan.options:
        lines.append(f"# option {option.code}: {option.to_text()}")
        lines.append(_ps_option(option, target))
    lines += [
        f"# option 43 for vendor class {plan.vendor_class}: {plan.vendor_options.url}",
        f"Add-DhcpServerv4Class -ComputerName $ComputerName -Name '{VENDOR_CLASS_NAME}' -Type Vendor "
        f"-Data '{plan.vendor_class}' -Description 'UC Vendor Class Id'",
    ]
    for code, value in plan.vendor_options.sub_options():
        name = _SUB_NAMES[UcSubOption(code)] if code in _SUB_NAMES else f"SubOption{code}"
        lines.append(
            f"Add-DhcpServerv4OptionDefinition -ComputerName $ComputerName -VendorClass '{VENDOR_CLASS_NAME}' "
            f"-OptionId {code} -Name '{name}' -Type BinaryData"
        )
        lines.append(
            f"Set-DhcpServerv4OptionValue {target} -VendorClass '{VENDOR_CLASS_NAME}' -OptionId {code} "
            f"-Value {_ps_bytes(value)}"
        )
    return lines


def _ps_option(option: Option, target: str) -> str:
    if isinstance(option, AddressList):
        return f"Set-DhcpServerv4OptionValue {target} -OptionId {option.code} -Value {','.join(str(a) for a in option.addresses)}"
    if isinstance(option, DomainSearch):
        return (
            "Add-DhcpServerv4OptionDefinition -ComputerName $ComputerName -OptionId 119 -Name 'DNS Search List' "
            f"-Type String -ErrorAction SilentlyContinue\nSet-DhcpServerv4OptionValue {target} -OptionId 119 "
            f"-Value '{option.to_text()}'"
        )
    if option.code == 120:
        return (
            "Add-DhcpServerv4OptionDefinition -ComputerName $ComputerName -OptionId 120 -Name 'UCSipServer' "
            f"-Type BinaryData -Description 'Sip Server Fqdn'\nSet-DhcpServerv4OptionValue {target} -OptionId 120 "
            f"-Value {_ps_bytes(value_of(option))}"
        )
    return f"Set-DhcpServerv4OptionValue {target} -OptionId {option.code} -Value '{option.to_text()}'"


def render_windows(plan: DhcpPlan, flavour: Literal["netsh", "powershell"]) -> str:
    lines = _netsh(plan) if flavour == "netsh" else _powershell(plan)
    return ("\r\n" if flavour == "netsh" else "\n").join(lines) + ("\r\n" if flavour == "netsh" else "\n")
