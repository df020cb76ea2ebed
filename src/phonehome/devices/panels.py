"""The dashboard's fleet panels: versions per model, check-ins per hour, phones behind, pending rules,
recent refusals. HTML is built here with every value escaped; charts are server-side SVG."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from phonehome.admin.charts import bar_chart, column_chart
from phonehome.admin.web import Panel, PanelSource
from phonehome.devices.service import DevicesService, Fleet, Listed
from phonehome.metrics import Refusal

SHOWN = 8


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """Cells are HTML already (callers escape)."""
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="list"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _behind(rows: list[Listed]) -> str:
    cells = [
        (
            f'<a href="/devices/{d.device.id}/">{escape(d.device.mac or d.device.serial or "?")}</a>',
            escape(d.device.model),
            escape(d.device.version),
            escape(d.target or ""),
        )
        for d in rows[:SHOWN]
    ]
    summary = f"<p><strong>{len(rows)}</strong> phone{'s' if len(rows) != 1 else ''} run an older version than their rule serves."
    more = ' <a href="/devices/?behind=1">All of them</a></p>' if rows else "</p>"
    return (
        summary
        + more
        + _table(("Device", "Model", "Runs", "Rule serves"), cells, "Every phone is up to date.")
    )


def _pending(fleet: Fleet) -> str:
    cells = [
        (
            f'<a href="/updates/rules/{quote(r.id)}/">{escape(r.name)}</a>',
            escape(r.approved_version or "—"),
            escape(r.pending_version or ""),
        )
        for r in fleet.pending_rules
    ]
    return _table(("Rule", "Approved", "Pending"), cells, "No rule waits for approval.")


def _refusals(refusals: Sequence[Refusal]) -> str:
    cells = [
        (
            escape(r.time.strftime("%H:%M:%S")),
            escape(str(r.status)),
            escape(f"{r.method} {r.path}"),
            escape(r.device or r.peer or ""),
            escape(r.reason),
        )
        for r in list(reversed(refusals))[:SHOWN]
    ]
    return _table(
        ("UTC", "Status", "Request", "Device", "Reason"),
        cells,
        "No phone request was refused since the start.",
    )


def fleet_panels(devices: DevicesService) -> PanelSource:
    async def source() -> list[Panel]:
        fleet = await devices.overview()
        return [
            Panel(
                "Fleet by model and firmware",
                bar_chart(fleet.by_model_version, title="phones per model and version", width=380),
            ),
            Panel(
                "Check-ins per hour (last 48 h, UTC)",
                column_chart(fleet.checkins, title="check-ins per hour", labels=fleet.hours, width=380)
                + f'<p class="hint">{sum(fleet.checkins)} check-ins in 48 hours.</p>',
            ),
            Panel("Behind the approved version", _behind(fleet.behind)),
            Panel("Rules awaiting approval", _pending(fleet)),
            Panel("Recent refusals and errors (this node)", _refusals(devices.metrics.refusals)),
        ]

    return source
