"""Building the update services from the runtime (one call from app.build_services)."""

from __future__ import annotations

import socket
from typing import Any

from phonehome.errors import ConfigError
from phonehome.fleet.service import FleetService
from phonehome.runtime import Runtime
from phonehome.updates import ucdevice
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.cab import default_cabextract
from phonehome.updates.checkin import CheckInService
from phonehome.updates.importer import FirmwareImporter
from phonehome.updates.service import UpdateService
from phonehome.updates.versions import FilterRule, VersionError


def _template(runtime: Runtime) -> str:
    path = runtime.settings.updates.response_template
    if path is None:
        return ucdevice.DEFAULT_TEMPLATE
    try:
        text = path.read_text(encoding="utf-8")
        ucdevice.check_template(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"updates.response_template {path}: {exc}") from exc
    return text


def build_update_services(runtime: Runtime, fleet: FleetService) -> dict[type[Any], Any]:
    settings = runtime.settings.updates
    try:
        for line in settings.client_version_filter:
            FilterRule.parse(line)
        updates = UpdateService(runtime.db, settings, fleet)
    except (VersionError, ValueError) as exc:
        raise ConfigError(f"[updates]: {exc}") from exc
    audit = AuditFile(runtime.paths.logs, settings.server_name or socket.gethostname().split(".")[0])
    firmware = runtime.blob_store("firmware")
    checkins = CheckInService(runtime.db, firmware, settings, audit, _template(runtime))
    importer = FirmwareImporter(
        runtime.db, firmware, cabextract=default_cabextract(), max_size=settings.max_package_size
    )
    # Admin changes made in this process reach this node's check-ins at once (others: the poll).
    updates.catalog_changed = importer.catalog_changed = checkins.catalog.invalidate
    checkins.log.observe = runtime.metrics.write_batches.labels("check-in").observe
    return {UpdateService: updates, CheckInService: checkins, FirmwareImporter: importer}
