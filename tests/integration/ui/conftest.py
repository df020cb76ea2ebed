"""The signed-in admin browser session each UI module uses against its own module-scoped ``server``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.admin_web import signed_in
from tests.support.server import PhonehomeServer


@pytest.fixture(scope="module")
def web(server: PhonehomeServer) -> Iterator[httpx.Client]:
    client = signed_in(server)
    try:
        yield client
    finally:
        client.close()
