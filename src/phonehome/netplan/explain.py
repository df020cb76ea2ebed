"""The plan in words: what each DHCP option and DNS record tells a phone, and what is missing."""

from __future__ import annotations

from phonehome.netplan.errors import NetplanError
from phonehome.netplan.optionbase import OptionCode
from phonehome.netplan.options import value_of
from phonehome.netplan.records import zone_plan
from phonehome.netplan.site import Site, dhcp_plan

_WHAT = {
    3: "default gateway",
    6: "DNS servers; they must answer the internal zones below",
    15: "DHCP domain; phones look up ucupdates-r2.<this> for firmware updates",
    42: "NTP servers; without time a phone cannot sign in",
    119: "DNS search list (Windows form, semicolons); phones try ucupdates-r2 in each",
    120: "SIP registrar (pool) the phone signs in to",
}


def explain(site: Site, serial: int = 1) -> str:
    lines: list[str] = []
    try:
        plan = dhcp_plan(site)
    except NetplanError as exc:
        lines.append(f"DHCP: not planned: {exc.reason}")
    else:
        lines.append(
            f"DHCP scope {plan.subnet}: addresses {plan.pool_start} to {plan.pool_end}, "
            f"lease {plan.lease_seconds} s"
        )
        lines.append("  every client gets:")
        for option in plan.options:
            size = len(value_of(option))
            lines.append(
                f"    option {option.code:<3} {OptionCode.label(option.code)} = {option.to_text()} "
                f"({size} octets): {_WHAT.get(option.code, '')}"
            )
        vendor = plan.vendor_options
        lines.append(f"  clients sending option 60 {plan.vendor_class!r} (case-sensitive) also get:")
        lines.append(
            f"    option 43  Certificate Provisioning URL {vendor.url} ({len(value_of(vendor))} octets): "
            "the phone downloads the root chain and sends its PIN sign-in there"
        )
    for view in ("internal", "external"):
        try:
            zones = zone_plan(site, view, serial)
        except NetplanError as exc:
            lines.append(f"DNS {view}: not planned: {exc.reason}")
            continue
        for zone in zones.zones:
            lines.append(f"DNS {view} zone {zone.origin.to_text(True)}:")
            for record in zone.records:
                if record.infrastructure:
                    continue
                data = ", ".join(r.to_text() for r in record.rdatas)
                lines.append(f"    {record.owner.to_text(True)} {record.rdtype.name} {data}: {record.why}")
    return "\n".join(lines) + "\n"
