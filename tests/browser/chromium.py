"""Debian's Chromium driven by Playwright: one browser for the module that uses it (the only
one, so one per test session).

Playwright's own browser downloads are never used: the browser is the system's `chromium`
(installed by scripts/services.sh). Tests using it are skipped where it or Playwright is
missing, and fail under CI instead.

Not session-scoped on purpose: Playwright's synchronous API keeps an event loop running on the
main thread while it is started, which the asyncio tests after it could not share.
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


@pytest.fixture(scope="module")
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
