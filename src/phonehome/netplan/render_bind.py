"""BIND master files, one per zone, each record under a comment saying which phone behaviour needs it.

Also ``named.conf.netplan``: the ``zone`` statements to include (file names relative to BIND's
``directory``).
"""

from __future__ import annotations

import dns.name

from phonehome.netplan.records import PlannedRecord, Zone, ZonePlan


def zone_file_name(zone: Zone, view: str) -> str:
    return f"{zone.origin.to_text(omit_final_dot=True)}.{view}.zone"


def render_zone(zone: Zone, view: str) -> str:
    origin = zone.origin
    lines = [
        f"; phonehome netplan: {view} zone {origin.to_text(True)} for Lync Phone Edition phones",
        f"$ORIGIN {origin.to_text()}",
        f"$TTL {zone.records[0].ttl if zone.records else 3600}",
    ]
    for record in zone.records:
        lines.append(f"; {record.why}")
        lines += record_lines(record, origin)
    return "\n".join(lines) + "\n"


def record_lines(record: PlannedRecord, origin: dns.name.Name | None = None, sep: str = "\t") -> list[str]:
    """One master-file line per rdata; the owner relative to ``origin``, else absolute (a line to paste
    into any zone, as the doctor's fixes show it)."""
    owner = record.owner.relativize(origin).to_text() if origin is not None else record.owner.to_text()
    return [sep.join((owner, str(record.ttl), "IN", record.rdtype.name, r.to_text())) for r in record.rdatas]


def render_named_conf(plan: ZonePlan) -> str:
    lines = [f"// phonehome netplan: {plan.view} zones (include from named.conf)"]
    for zone in plan.zones:
        name = zone.origin.to_text(True)
        lines.append(f'zone "{name}" {{ type primary; file "{zone_file_name(zone, plan.view)}"; }};')
    return "\n".join(lines) + "\n"


def render_bind(plan: ZonePlan) -> dict[str, str]:
    files = {zone_file_name(z, plan.view): render_zone(z, plan.view) for z in plan.zones}
    files[f"named.conf.{plan.view}"] = render_named_conf(plan)
    return files
