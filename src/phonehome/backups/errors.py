"""The backups slice's errors; each carries its HTTP status and CLI exit code (see phonehome.errors)."""

from __future__ import annotations

from phonehome.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    StoreFull,
    Unauthorized,
)


class BadBackupName(NotFound):
    """Not a backup file name: nothing stored."""


class BackupNotFound(NotFound):
    """No such backup file."""


class VersionNotFound(NotFound):
    """No such version of this backup file."""


class MissingCredentials(Unauthorized):
    """Authentication required: send Basic credentials (or a client certificate over HTTPS)."""


class BadCredentials(Unauthorized):
    """Wrong user name or password."""


class MalformedCredentials(BadRequest):
    """Malformed Authorization header."""


class UnknownCertificate(Forbidden):
    """The client certificate maps to no backup account."""


class RevokedCertificate(Forbidden):
    """The client certificate was revoked."""


class NotYourFile(Forbidden):
    """This account may not touch this file."""


class ReadOnlyFile(Forbidden):
    """This file is read-only for phones."""


class UploadAborted(BadRequest):
    """The client closed the connection before the whole body arrived: nothing stored."""


class BackupMethodNotAllowed(MethodNotAllowed):
    """Method not allowed: use PUT, GET, HEAD or DELETE."""


class ChangedMeanwhile(PreconditionFailed):
    """Precondition failed: the file's current version does not match If-Match / If-None-Match."""


class ConcurrentUpload(Conflict):
    """Another upload created this file at the same moment: please retry."""


class QuotaExceeded(StoreFull):
    """The account's backup quota is used up."""


class AccountExists(Conflict):
    """A backup account with this name exists."""


class AccountNotFound(NotFound):
    """No such backup account."""


class MacInUse(Conflict):
    """This MAC address is bound to another account."""


class BadAccountInput(BadRequest):
    """Invalid account name, password or MAC address."""
