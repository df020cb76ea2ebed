"""Yealink T4x/T5x upload file names, pure: ``<mac>-contact.xml`` and ``<mac>-local.cfg``.

Yealink documents the lower-case MAC; an upper-case one is folded so GET finds what PUT stored.
"""

from __future__ import annotations

import re

from phonehome.backups.names import BackupName, Owner

_NAME = re.compile(r"^(?P<mac>[0-9A-Fa-f]{12})-(?P<kind>contact\.xml|local\.cfg)$")


def parse_name(name: str) -> BackupName | None:
    match = _NAME.match(name)
    if match is None:
        return None
    mac = match["mac"].lower()
    if mac == "000000000000":
        return None
    return BackupName(f"{mac}-{match['kind']}", "yealink", Owner("mac", mac), append=False)
