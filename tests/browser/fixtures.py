"""The browser tests' fixtures, on top of pytest-playwright's: the system's Chromium, the built site served
locally as every context's base URL, and pages whose console errors fail the test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page

from browser.page import DESKTOP
from browser.server import serve
from site_build import built_site, site_url_path

INSTALL_HINT = (
    "the browser tests need Chromium: on Debian or Ubuntu run `apt-get update && apt-get install -y chromium` "
    "as root (.ci/run does), or point $CHROMIUM at a Chromium or Chrome executable"
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """$CHROMIUM if set, else the first Chromium or Chrome on PATH; None when there is none."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config) -> dict:
    """Launch the system's Chromium (never Playwright's download), headless unless --headed, without a GPU (Playwright
    adds the other flags of a quiet, offline run); skip without one, or fail when $REQUIRE_BROWSER is set, as .ci/run
    sets it."""
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but no browser was found: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return {"executable_path": chromium, "args": ["--disable-gpu"], "headless": not pytestconfig.getoption("--headed")}


@pytest.fixture(scope="session")
def site_url(browser_type_launch_args: dict) -> Iterator[str]:
    """The built site served on 127.0.0.1 under its published path; its base URL (after the Chromium check)."""
    with serve(built_site(), site_url_path()) as base:
        yield base


@pytest.fixture(scope="session")
def browser_context_args(site_url: str) -> dict:
    """Every context opens the served site's pages by their relative paths, with no service worker."""
    return {"base_url": site_url, "service_workers": "block"}


@pytest.fixture
def open_page(new_context: Callable[..., BrowserContext]) -> Iterator[Callable[..., Page]]:
    """Open a page of the site (or any URL) in a fresh context, light and desktop-sized unless told, its requests
    for each URL pattern of `routes` answered by its handler, and wait for an element `wait` finds; the test fails
    if a page logs a console error, other than those starting with `allow`, or an uncaught exception."""
    errors: list[str] = []

    def open_(path: str, wait: str | None = None, routes: dict[str, Callable] | None = None,
              allow: tuple[str, ...] = (), **options) -> Page:
        tab = new_context(**{"color_scheme": "light", "viewport": DESKTOP, **options}).new_page()
        tab.on("console", lambda message: message.type == "error" and not message.text.startswith(allow)
               and errors.append(message.text))
        tab.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        for pattern, handler in (routes or {}).items():
            tab.route(pattern, handler)
        tab.goto(path)
        if wait:
            tab.wait_for_selector(wait)
        return tab

    yield open_
    assert not errors, "console errors:\n" + "\n".join(errors)
