"""A PowerShell script (DnsServer module) adding the planned records, each with its reason.

SOA and NS are left to the Windows DNS server that owns the zone; the script creates a missing
zone (AD-integrated for internal, file-backed for external) and adds A and SRV records.
"""

from __future__ import annotations

import dns.rdatatype
import dns.rdtypes.IN.A
import dns.rdtypes.IN.SRV

from phonehome.netplan.records import ZonePlan


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_powershell(plan: ZonePlan) -> dict[str, str]:
    lines = [
        f"# phonehome netplan: {plan.view} DNS records for Lync Phone Edition phones (DnsServer module).",
        "param([string]$ComputerName = 'localhost')",
        "$ErrorActionPreference = 'Stop'",
    ]
    for zone in plan.zones:
        name = zone.origin.to_text(True)
        create = (
            f"Add-DnsServerPrimaryZone -ComputerName $ComputerName -Name {_quote(name)} -ReplicationScope 'Domain'"
            if plan.view == "internal"
            else f"Add-DnsServerPrimaryZone -ComputerName $ComputerName -Name {_quote(name)} -ZoneFile {_quote(name + '.dns')}"
        )
        lines += [
            "",
            f"# zone {name}",
            f"if (-not (Get-DnsServerZone -ComputerName $ComputerName -Name {_quote(name)} -ErrorAction SilentlyContinue)) {{",
            f"    {create}",
            "}",
        ]
        for record in zone.records:
            if record.infrastructure or record.rdtype not in (dns.rdatatype.A, dns.rdatatype.SRV):
                continue
            owner = record.owner.relativize(zone.origin).to_text()
            common = f"-ComputerName $ComputerName -ZoneName {_quote(name)} -Name {_quote(owner)}"
            lines.append(f"# {record.why}")
            for rdata in record.rdatas:
                if isinstance(rdata, dns.rdtypes.IN.A.A):
                    lines.append(
                        f"Add-DnsServerResourceRecordA {common} -IPv4Address {_quote(rdata.address)} -TimeToLive 01:00:00"
                    )
                elif isinstance(rdata, dns.rdtypes.IN.SRV.SRV):
                    target = rdata.target.to_text(True)
                    lines.append(
                        f"Add-DnsServerResourceRecord -Srv {common} -DomainName {_quote(target)} "
                        f"-Priority {rdata.priority} -Weight {rdata.weight} -Port {rdata.port} -TimeToLive 01:00:00"
                    )
    return {f"netplan-dns-{plan.view}.ps1": "\n".join(lines) + "\n"}
