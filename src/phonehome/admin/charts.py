"""Server-side SVG charts (pure): admin networks are often isolated, so no chart library is fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")


def bar_chart(rows: Sequence[tuple[str, int]], *, title: str, width: int = 520, bar_height: int = 22) -> str:
    """Horizontal bars, one per (label, value); labels are escaped, the SVG is self-contained."""
    if not rows:
        return f'<p class="empty">{escape(title)}: no data yet</p>'
    label_width = min(220, 8 * max(len(label) for label, _ in rows) + 10)
    plot = width - label_width - 60
    peak = max(value for _, value in rows) or 1
    height = bar_height * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * bar_height
        length = max(1, round(plot * value / peak)) if value else 0
        colour = _PALETTE[i % len(_PALETTE)]
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.68:.1f}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{bar_height - 6}" fill="{colour}"/>'
            f'<text x="{label_width + length + 4}" y="{y + bar_height * 0.68:.1f}" font-size="12">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    values: Sequence[int], *, title: str, labels: Sequence[str] = (), width: int = 520, height: int = 120
) -> str:
    """Vertical columns over time (e.g. check-ins per hour for the last 48 h); every 6th label shown."""
    if not values:
        return f'<p class="empty">{escape(title)}: no data yet</p>'
    peak = max(values) or 1
    step = width / len(values)
    plot = height - 18
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, value in enumerate(values):
        h = round(plot * value / peak)
        parts.append(
            f'<rect x="{i * step + 1:.1f}" y="{plot - h}" width="{max(step - 2, 1):.1f}" height="{h}" '
            f'fill="#2563eb"><title>{escape(labels[i] if i < len(labels) else str(i))}: {value}</title></rect>'
        )
        if labels and i % 6 == 0 and i < len(labels):
            parts.append(
                f'<text x="{i * step:.1f}" y="{height - 4}" font-size="10">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
