"""A real browser on the running stack: Debian's chromium (installed by `make browser`), driven
by Playwright for Python. Playwright's own browser download is never used: the launch points at
the system's chromium (CCHC_CHROMIUM, else `chromium` on PATH)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots"
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}


def chromium_path() -> str:
    path = os.environ.get("CCHC_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "no chromium: run `make browser` (apt-get install chromium) or set CCHC_CHROMIUM"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Playwright's sync API runs an event loop of its own in this thread while it lives: it
    stops with the module, before any asyncio test of the session needs the thread's loop."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
