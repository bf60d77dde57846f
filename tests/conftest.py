"""Fixtures shared by the suite."""

from __future__ import annotations

import os
import tempfile

import pytest

from convnets.devices import framework_defaults

# The docs pages run as tests (tests/pagetest); pytester drives that plugin on fixture sites.
pytest_plugins = ["pytester"]

framework_defaults()  # the scripts' TensorFlow settings (oneDNN on), for the pages run in this process
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
# Each model trains once per test session, in a fresh cache, and is reused by every test and page.
# Set CONVNETS_CACHE yourself to keep trained models between sessions while you work.
os.environ.setdefault("CONVNETS_CACHE", tempfile.mkdtemp(prefix="convnets-cache-"))


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one browser test module (those modules skip themselves when there is none)."""
    from playwright.sync_api import sync_playwright

    from browser.chromium import ARGS, find_chromium

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def mnist():
    """The verified MNIST arrays from data/mnist.npz (`make data` provisions it)."""
    from convnets.data import LOCAL_FILE, read_npz

    if not LOCAL_FILE.exists():
        pytest.fail("data/mnist.npz is missing: run `make data` (make test does it for you)")
    return read_npz(LOCAL_FILE)
