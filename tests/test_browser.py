"""The built site in a real browser: every page loads offline, cleanly, typeset and accessible, in light and dark."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest

from browser.chromium import ARGS, INSTALL_HINT, find_chromium
from helpers import ROOT
from site_build import built_site, site_pages, site_url_path

CHROMIUM = find_chromium()
if CHROMIUM is None:
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but no browser was found: {INSTALL_HINT}")
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from browser.server import serve  # noqa: E402
from browser.visit import Recorder, PageReport, visit  # noqa: E402

SHOTS = ROOT / "build" / "screenshots"
REPORT = ROOT / "build" / "browser-report.json"


@dataclass
class Session:
    """The running browser, the served site's base URL and what every page visit recorded."""

    browser: Browser
    base: str
    reports: list[PageReport]


@pytest.fixture(scope="module")
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """Serve the built site, visit each page once in Chromium, and report where the screenshots are."""
    site = built_site()
    shutil.rmtree(SHOTS, ignore_errors=True)
    started = time.monotonic()
    with serve(site, site_url_path()) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(color_scheme="light", service_workers="block")
        tab = context.new_page()
        recorder = Recorder(context, tab, urljoin(base, "/"))
        reports = [visit(tab, recorder, urljoin(base, page.url_path.removesuffix("index.html")), page.url_path, SHOTS) for page in site_pages()]
        context.close()
        seconds = time.monotonic() - started
        _write_report(reports, seconds)
        yield Session(browser, base, reports)
        browser.close()
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(
            f"\nbrowser tests: {len(reports)} pages visited in {seconds:.0f} s with {CHROMIUM}; "
            f"screenshots in {SHOTS.relative_to(ROOT)}/{{light,dark,phone}}/, report in {REPORT.relative_to(ROOT)}"
        )


def _write_report(reports: list[PageReport], seconds: float) -> None:
    """Save every page's record, with totals, to build/browser-report.json."""
    totals = {
        "pages": len(reports),
        "seconds": round(seconds, 1),
        "requests": sum(r.requests for r in reports),
        "failed_requests": sum(len(r.failed_requests) for r in reports),
        "external_requests": sum(len(r.external_requests) for r in reports),
        "console_errors": sum(len(r.console_errors) for r in reports),
        "violations": {
            scheme: sum(len(r.violations.get(scheme, [])) for r in reports) for scheme in sorted({s for r in reports for s in r.violations})
        },
        "serious_violations": sum(len(r.serious_violations()) for r in reports),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"totals": totals, "pages": [r.as_dict() for r in reports]}, indent=2), encoding="utf-8")


def failures(session: Session, describe) -> list[str]:
    """One line per page that `describe` finds a problem on."""
    return [f"{report.path}: {problem}" for report in session.reports if (problem := describe(report))]


def test_every_page_of_the_site_loads(session: Session):
    assert len(session.reports) == len(site_pages()) > 1
    assert not failures(session, lambda r: r.status != 200 and f"HTTP {r.status}")


def test_pages_log_no_console_errors(session: Session):
    problems = failures(session, lambda r: r.console_errors)
    assert not problems, "\n".join(problems)


def test_pages_make_no_failed_or_external_requests(session: Session):
    assert all(r.requests > 0 for r in session.reports)
    problems = failures(session, lambda r: r.failed_requests) + failures(session, lambda r: r.external_requests and f"external: {r.external_requests}")
    assert not problems, "\n".join(problems)


def test_every_image_loads(session: Session):
    problems = failures(session, lambda r: r.broken_images)
    assert not problems, "\n".join(problems)


def test_math_is_typeset_with_no_raw_tex_left(session: Session):
    problems = failures(session, lambda r: r.raw_math)
    assert not problems, "raw TeX on the page:\n" + "\n".join(problems)


def test_code_blocks_have_copy_buttons(session: Session):
    assert sum(r.code_blocks for r in session.reports) > 0
    problems = failures(session, lambda r: r.missing_copy_buttons)
    assert not problems, "code blocks without a copy button:\n" + "\n".join(problems)


def test_no_serious_accessibility_violations_in_light_or_dark(session: Session):
    assert all(len(r.violations) == 2 for r in session.reports), "axe-core did not run in both color schemes"
    problems = failures(session, lambda r: "\n  ".join(r.serious_violations()))
    assert not problems, "axe-core found serious violations:\n" + "\n".join(problems)


def test_pages_fit_a_390px_wide_phone_screen(session: Session):
    problems = failures(session, lambda r: r.phone_overflow_px > 0 and f"scrolls sideways by {r.phone_overflow_px} px")
    assert not problems, "\n".join(problems)


LEARN = ["first-convnet/", "convolution/", "padding/", "strides/", "max-pooling/", "invariance/"]
NAV_SECTIONS = """nav => [...nav.querySelectorAll(':scope > ul > li.md-nav__item--section, :scope > ul > li.md-nav__item--nested')]
    .map(item => [item.querySelector(':scope > label, :scope > .md-nav__link').textContent.trim(),
                  [...item.querySelectorAll(':scope > nav > ul > li > a')].map(a => a.getAttribute('href'))])"""


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_navigation_holds_the_six_chapters_under_learn_in_order(session: Session, viewport: str):
    """Learn, then Interactive, then Under the hood; on a phone the menu opens from its button, to a screenshot."""
    phone = viewport == "phone"
    context = session.browser.new_context(color_scheme="light", **({"viewport": {"width": 390, "height": 844}}
                                                                      if phone else {}))
    tab = context.new_page()
    tab.goto(session.base)
    folder = SHOTS / ("phone" if phone else "light")
    folder.mkdir(parents=True, exist_ok=True)
    if phone:
        tab.locator("label.md-header__button[for=__drawer]").click()
        tab.wait_for_timeout(400)
        tab.screenshot(path=folder / "navigation.png")
        tab.locator("nav.md-nav--primary label.md-nav__link", has_text="Learn").first.click()
        tab.wait_for_timeout(400)
    sections = dict(tab.eval_on_selector("nav.md-nav--primary", NAV_SECTIONS))
    tab.screenshot(path=folder / ("navigation-learn.png" if phone else "navigation.png"))
    context.close()
    assert list(sections)[:3] == ["Learn", "Interactive", "Under the hood"], list(sections)
    assert [href.lstrip("./") for href in sections["Learn"]] == LEARN, sections["Learn"]
