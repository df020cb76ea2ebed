"""The doctor's results as a Rich table (one row per step) or JSON, and decode-status as text."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from phonehome.doctor.status_codes import Decoded
from phonehome.doctor.verdict import Result, Status

STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def as_dict(result: Result) -> dict[str, Any]:
    return {
        "step": result.step.key,
        "title": result.step.title,
        "status": result.status.value,
        "evidence": list(result.evidence),
        "fix": None if result.fix is None else {"why": result.fix.why, "lines": list(result.fix.lines)},
        "section": result.step.section,
    }


def render_json(results: list[Result]) -> str:
    failed = any(r.status is Status.FAIL for r in results)
    return json.dumps({"ok": not failed, "steps": [as_dict(r) for r in results]}, indent=2)


def render_table(console: Console, results: list[Result], title: str) -> None:
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("step", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("evidence (query → answer)", ratio=3)
    table.add_column("fix", ratio=3)
    table.add_column("source", ratio=1)
    for r in results:
        fix = Text()
        if r.fix is not None:
            fix.append(r.fix.why)
            for line in r.fix.lines:
                fix.append("\n" + line, style="cyan")
        table.add_row(
            r.step.title,
            Text(r.status.value, style=STYLE[r.status]),
            Text("\n".join(r.evidence)),
            fix,
            Text(r.step.section, style="dim"),
        )
    console.print(table)


def render_status(decoded: Decoded) -> str:
    lines = [f"Last Update Status 0x{decoded.wininet:X}/{decoded.http}: {decoded.summary}"]
    w, h = decoded.wininet_meaning, decoded.http_meaning
    if w is None:
        lines.append(f"  WinInet {decoded.wininet} (0x{decoded.wininet:X}): not a code the sources list")
    else:
        lines.append(f"  WinInet {decoded.wininet} (0x{decoded.wininet:X}) {w.name}: {w.cause}")
        if w.fix:
            lines.append(f"    fix: {w.fix}")
        lines.append(f"    source: {w.source}")
    if h is None:
        lines.append(f"  HTTP {decoded.http}: not a status the sources list")
    else:
        lines.append(f"  HTTP {decoded.http} {h.name}: {h.cause}")
        if h.fix:
            lines.append(f"    fix: {h.fix}")
        lines.append(f"    source: {h.source}")
    return "\n".join(lines)
