"""Headless Debian Chromium driven by Playwright (executable_path=/usr/bin/chromium; no browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page

from tests.support.peers import require_binary

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Set PHONEHOME_SCREENSHOTS=docs/screenshots to refresh the README's pictures.
SCREENSHOT_DIR = os.environ.get("PHONEHOME_SCREENSHOTS")


@contextmanager
def chromium_page(tmp_path: Path) -> Iterator[Page]:
    executable = require_binary("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 860})
            context.set_default_timeout(20_000)
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    target_dir = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path / "screenshots"
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
