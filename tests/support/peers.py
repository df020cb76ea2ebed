"""Real peers (daemons, PostgreSQL): skip locally when missing, fail under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_peer(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"real peer missing under CI=true: {reason}")
    pytest.skip(reason)


def require_binary(name: str, *candidates: str) -> str:
    """The path of a peer's binary (searching sbin too); a missing one skips, or fails in CI."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
    for candidate in (name, *candidates):
        found = shutil.which(candidate, path=search)
        if found:
            return found
    missing_peer(f"{name} is not installed (Debian package list: .ci/debian-packages)")
    raise AssertionError("unreachable")
