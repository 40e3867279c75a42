"""Browser fixtures: Debian's Chromium driven by Playwright for Python, and axe-core for
accessibility checks.

Neither the browser nor axe-core is optional here: if one is missing the tests fail and say how
to install it (``make test`` installs both), instead of quietly skipping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.browser.accessibility import AXE_JS

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts" / "browser"

# The machine running these may be slow (two cores, a cold Chromium): generous, but bounded.
TIMEOUT_MS = 20_000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _require_tools() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(
            f"Chromium is not at {CHROMIUM}: install it with `apt-get install chromium`."
        )
    if not AXE_JS.exists():
        missing.append(
            f"axe-core is not at {AXE_JS}: install it with `npm ci --prefix tests/browser`."
        )
    if missing:
        pytest.fail(
            "The browser tests need tools that are not installed (`make test` installs "
            "both):\n  " + "\n  ".join(missing),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the session (a second sync driver cannot start in-process)."""
    _require_tools()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield chromium
    finally:
        chromium.close()


@contextmanager
def fresh_page(browser: Browser, *, bypass_csp: bool = False) -> Iterator[Page]:
    """A page in a context of its own (its own cookies), so each test starts signed out."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core into the tool's pages, whose Content-Security-
    # Policy (rightly) forbids inline scripts; the pages themselves run no inline script.
    with fresh_page(browser, bypass_csp=True) as new:
        yield new


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
