"""The one error tree of phonehome.

Every error a user can cause is a :class:`PhonehomeError`. Its docstring is the default reason line,
``status`` is what the HTTP middlewares answer and ``exit_code`` what the CLI exits with::

    PhonehomeError                       500 / 1
    ├── ConfigError                      -   / 2   bad config file, env or flag
    ├── StartupError                     -   / 1   port in use, data dir not writable
    ├── BadRequest                       400 / 2
    │   └── PayloadTooLarge              413 / 2
    ├── Unauthorized                     401 / 3   (carries the realm for WWW-Authenticate)
    ├── Forbidden                        403 / 3
    ├── NotFound                         404 / 4
    ├── MethodNotAllowed                 405 / 2
    ├── Conflict                         409 / 5
    ├── PreconditionFailed               412 / 5
    ├── TooManyRequests                  429 / 6   (carries retry_after)
    └── StoreFull                        507 / 7   ENOSPC or another write error on the data dir

Slices subclass these in their own ``errors.py`` (``MalformedCheckIn(BadRequest)``,
``BackupNotFound(NotFound)``), so one handler per plane maps the whole tree along the MRO.
"""

from __future__ import annotations

from typing import ClassVar


class PhonehomeError(Exception):
    """Internal error."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, reason: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.reason = reason or (self.__doc__ or type(self).__name__).strip().splitlines()[0]
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.reason)


class ConfigError(PhonehomeError):
    """Invalid configuration."""

    exit_code = 2


class StartupError(PhonehomeError):
    """The server cannot start."""

    exit_code = 1


class BadRequest(PhonehomeError):
    """Bad request."""

    status = 400
    exit_code = 2


class PayloadTooLarge(BadRequest):
    """Request body too large."""

    status = 413


class Unauthorized(PhonehomeError):
    """Authentication required."""

    status = 401
    exit_code = 3

    def __init__(self, reason: str | None = None, *, realm: str | None = None) -> None:
        headers = {"WWW-Authenticate": f'Basic realm="{realm}", charset="UTF-8"'} if realm else None
        super().__init__(reason, headers=headers)


class Forbidden(PhonehomeError):
    """Forbidden."""

    status = 403
    exit_code = 3


class NotFound(PhonehomeError):
    """Not found."""

    status = 404
    exit_code = 4


class MethodNotAllowed(PhonehomeError):
    """Method not allowed."""

    status = 405
    exit_code = 2


class Conflict(PhonehomeError):
    """Conflict with the current state."""

    status = 409
    exit_code = 5


class PreconditionFailed(PhonehomeError):
    """Precondition failed."""

    status = 412
    exit_code = 5


class TooManyRequests(PhonehomeError):
    """Too many requests."""

    status = 429
    exit_code = 6

    def __init__(self, reason: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(reason, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class StoreFull(PhonehomeError):
    """Insufficient storage: the data directory cannot take this write."""

    status = 507
    exit_code = 7
