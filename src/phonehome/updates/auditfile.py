"""Writing the audit log: one file per UTC day under the logs dir, header first, one line per check-in."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from phonehome.updates import auditlog


class AuditFile:
    """``RequestHandlerAuditLog_<server>_<YYYYMMDD>.log`` under the logs dir; a new file each UTC day."""

    def __init__(self, directory: Path, server: str) -> None:
        self.directory = directory
        self.server = server
        self._lock = threading.Lock()

    def path(self, day: dt.date) -> Path:
        return self.directory / auditlog.file_name(self.server, day)

    def write(self, record: auditlog.AuditRecord) -> None:
        self.write_many([record])

    def write_many(self, records: list[auditlog.AuditRecord]) -> None:
        """Append records in order: one open and one write per day file (a batch of check-ins)."""
        by_day: dict[dt.date, list[str]] = {}
        for record in records:
            by_day.setdefault(record.time.astimezone(dt.UTC).date(), []).append(
                auditlog.render_record(record)
            )
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            for day, lines in by_day.items():
                with self.path(day).open("a", encoding="utf-8", newline="") as fh:
                    if fh.tell() == 0:
                        fh.write(auditlog.render_header())
                    fh.write("".join(lines))
