"""Errors of the Device Update Service; the docstring is the default reason line::

BadRequest ── MalformedCheckIn (400) ── MissingIdentity (400)
           ├─ BadPackage (400)  firmware import refused
           └─ BadIdentifier (400)
PayloadTooLarge ── CheckInTooLarge (413)
Unauthorized ── ExternalCheckInNeedsCredential (401)
Forbidden ── ClientVersionRefused (403)
NotFound ── RuleNotFound, TestDeviceNotFound, UpdateFileNotFound (404)
Conflict ── RuleStateConflict, TestDeviceExists (409)
"""

from __future__ import annotations

from phonehome.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized


class MalformedCheckIn(BadRequest):
    """The check-in body cannot be read."""


class MissingIdentity(MalformedCheckIn):
    """The check-in names neither a MAC address nor a serial number."""


class CheckInTooLarge(PayloadTooLarge):
    """Check-in body larger than 64 KiB."""


class BadPackage(BadRequest):
    """The firmware package is refused."""


class BadIdentifier(BadRequest):
    """Not a MAC address or serial number."""


class ExternalCheckInNeedsCredential(Unauthorized):
    """External check-ins need a client certificate or device credentials."""


class RevokedDeviceCertificate(Forbidden):
    """The device's client certificate was revoked."""


class ClientVersionRefused(Forbidden):
    """The client version filter refuses this device."""


class RuleNotFound(NotFound):
    """No such device update rule."""


class TestDeviceNotFound(NotFound):
    """No such test device."""

    __test__ = False


class UpdateFileNotFound(NotFound):
    """No such update file."""


class RuleStateConflict(Conflict):
    """The rule's state does not allow this action."""


class TestDeviceExists(Conflict):
    """This test device exists."""

    __test__ = False
