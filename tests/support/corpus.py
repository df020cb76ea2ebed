"""The shared test corpus (../shared/testdata beside the checkout): real well-formed and hostile cabinets."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.peers import missing_peer

_REPO = Path(__file__).resolve().parents[2]


def cab_corpus() -> Path:
    """``testdata/cab``: PHONEHOME_TEST_CORPUS, else shared/ beside the checkout; missing fails under CI."""
    candidates = [Path(p) for p in (os.environ.get("PHONEHOME_TEST_CORPUS"),) if p]
    candidates += [_REPO.parent / "shared" / "testdata" / "cab", Path("/work/shared/testdata/cab")]
    for candidate in candidates:
        if (candidate / "hostile").is_dir():
            return candidate
    missing_peer(f"cabinet test corpus not found (looked in {', '.join(map(str, candidates))})")
    raise AssertionError("unreachable")
