"""Avaya H.323 backup file names (96xx, 16xx, 9610), pure.

The phone appends ``<ext>_96xxdata.txt`` (all 96x0/96x1 models), ``<ext>_16xxdata.txt`` or, for the
read-only 9610, ``<ext>_9610data.txt`` and then the shared ``9610data.txt`` to BRURI; ``ext`` is the
logged-in extension (NVPHONEXT).
"""

from __future__ import annotations

import re

from phonehome.backups.names import BackupName, Owner

_PER_EXTENSION = re.compile(r"^(?P<ext>[0-9]{1,20})_(?P<kind>96xx|16xx|9610)data\.txt$")
SHARED_9610 = "9610data.txt"


def parse_name(name: str) -> BackupName | None:
    """The backup file this name denotes, or None when it is not an Avaya name."""
    if name == SHARED_9610:
        return BackupName(name, "avaya", Owner("shared", ""), append=False)
    match = _PER_EXTENSION.match(name)
    if match is None:
        return None
    return BackupName(name, "avaya", Owner("extension", match["ext"]), append=False)
