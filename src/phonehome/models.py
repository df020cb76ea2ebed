"""Every table, imported once so Alembic and tests see the whole metadata.

Each slice adds one import line here for its own ``models`` module.
"""

from phonehome.admin import models as admin_models
from phonehome.backups import models as backups_models
from phonehome.changelog import ChangeLogEntry
from phonehome.fleet import models as fleet_models
from phonehome.pki import models as pki_models
from phonehome.updates import models as updates_models

__all__ = ["ChangeLogEntry", "admin_models", "backups_models", "fleet_models", "pki_models", "updates_models"]
