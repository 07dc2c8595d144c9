"""Debian's Chromium driven by Playwright, one browser for the whole test session.

Playwright's own browser downloads are never used: the browser is the system's `chromium`
(installed by scripts/services.sh). Tests using it are skipped where it or Playwright is
missing, and fail under CI instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.private_servers import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    require("chromium", executable is not None, "run `bash scripts/services.sh`")
    require(
        "Playwright for Python",
        importlib.util.find_spec("playwright") is not None,
        "pip install -e '.[test]'",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(LAUNCH_ARGS)
        )
        yield browser
        browser.close()
