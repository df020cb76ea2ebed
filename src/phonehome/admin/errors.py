from phonehome.errors import BadRequest, Conflict, NotFound, Unauthorized


class BadAdminCredentials(Unauthorized):
    """Wrong user name or password."""


class BadToken(Unauthorized):
    """Missing, unknown or expired API token."""


class AdminUserExists(Conflict):
    """An admin user with this name exists."""


class AdminUserNotFound(NotFound):
    """No such admin user."""


class WeakPassword(BadRequest):
    """Password too short: use at least 8 characters."""
