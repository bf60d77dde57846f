"""Find the system's Chromium and the flags to run it headless, offline and quiet."""

from __future__ import annotations

import os
import shutil

INSTALL_HINT = (
    "the browser tests need Chromium: on Debian or Ubuntu run `apt-get update && apt-get install -y chromium` "
    "as root (.ci/run does), or point $CHROMIUM at a Chromium or Chrome executable"
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """$CHROMIUM if set, else the first Chromium or Chrome on PATH; None when there is none."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    return None
