"""What the device pages refuse::

BadRequest (400 / exit 2)
└── BadDeviceFilter     a filter value that cannot be used (the reason names it)
NotFound (404 / exit 4)
└── DeviceNotFound      no device with that id
"""

from __future__ import annotations

from phonehome.errors import BadRequest, NotFound


class BadDeviceFilter(BadRequest):
    """Invalid device filter."""


class DeviceNotFound(NotFound):
    """No such device."""
