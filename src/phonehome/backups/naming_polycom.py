"""Polycom UC Software upload file names, pure.

``<mac>-phone.cfg`` and ``<mac>-web.cfg`` (overrides made on the phone and its web UI),
``<mac>-directory.xml`` (contacts), ``<mac>-calls.xml`` (call lists) and the logs ``<mac>-app.log``,
``<mac>-boot.log``. The MAC's case varies between firmware versions, so it is folded to lower case;
the all-zero MAC is what an unprovisioned phone sends and is refused, as polyput does.
"""

from __future__ import annotations

import re

from phonehome.backups.names import BackupName, Owner

_NAME = re.compile(
    r"^(?P<mac>[0-9A-Fa-f]{12})-(?P<kind>phone\.cfg|web\.cfg|directory\.xml|calls\.xml|app\.log|boot\.log)$"
)
_LOGS = frozenset({"app.log", "boot.log"})


def parse_name(name: str) -> BackupName | None:
    match = _NAME.match(name)
    if match is None:
        return None
    mac = match["mac"].lower()
    if mac == "000000000000":
        return None
    return BackupName(f"{mac}-{match['kind']}", "polycom", Owner("mac", mac), append=match["kind"] in _LOGS)
