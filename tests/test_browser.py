"""The built site in a real browser: every page loads offline, cleanly, typeset and accessible, in light and dark."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Browser, Page

from browser.page import PHONE, write_report
from browser.visit import PageReport, Recorder, visit
from helpers import ROOT
from site_build import CONFIG, site_pages

SHOTS = ROOT / "build" / "screenshots"
# What no page may show, as each page's record describes it.
PROBLEMS: dict[str, Callable[[PageReport], object]] = {
    "an HTTP error": lambda r: r.status != 200 and f"HTTP {r.status}",
    "console errors": lambda r: r.console_errors,
    "failed requests": lambda r: r.failed_requests,
    "requests off the site": lambda r: r.external_requests,
    "broken images": lambda r: r.broken_images,
    "raw TeX or blank formulas": lambda r: r.raw_math,
    "code blocks without a copy button": lambda r: r.missing_copy_buttons,
    "serious accessibility violations in light or dark": lambda r: "\n  ".join(r.serious_violations()),
    "sideways scrolling on a 390-px phone": lambda r: r.phone_overflow_px > 0 and f"{r.phone_overflow_px} px",
}
LEARN = ["first-convnet/", "convolution/", "padding/", "strides/", "max-pooling/", "invariance/"]
NAV_SECTIONS = """nav => [...nav.querySelectorAll(':scope > ul > li.md-nav__item--section, :scope > ul > li.md-nav__item--nested')]
    .map(item => [item.querySelector(':scope > label, :scope > .md-nav__link').textContent.trim(),
                  [...item.querySelectorAll(':scope > nav > ul > li > a')].map(a => a.getAttribute('href'))])"""


def page_paths() -> list[str]:
    """The path of every page mkdocs builds from mkdocs.yml ("" for the home page), its plugins' too, and 404.html;
    read from mkdocs's own file list, without building."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    config = load_config(str(CONFIG))
    files = config.plugins.on_files(get_files(config), config=config)
    return sorted([*(file.url.removeprefix("./") for file in files.documentation_pages()), "404.html"])


PATHS = page_paths()
CODE_PAGES = [*LEARN, *(path for path in PATHS if path.startswith("code/"))]  # chapters and notebooks show code


@pytest.fixture(scope="module")
def visitor(request: pytest.FixtureRequest, browser: Browser, site_url: str) -> Iterator[Callable[[str], PageReport]]:
    """Visit pages in one tab, every check on each; the records are saved with totals to build/browser-report.json."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    context = browser.new_context(color_scheme="light", service_workers="block")
    tab = context.new_page()
    recorder = Recorder(context, tab, urljoin(site_url, "/"))
    reports: list[PageReport] = []

    def visit_page(path: str) -> PageReport:
        reports.append(visit(tab, recorder, urljoin(site_url, path), path, SHOTS))
        return reports[-1]

    yield visit_page
    context.close()
    totals = {"pages": len(reports), "seconds": round(sum(r.seconds for r in reports), 1),
              "requests": sum(r.requests for r in reports),
              **{problem: sum(bool(describe(r)) for r in reports) for problem, describe in PROBLEMS.items()}}
    write_report(request.config, ROOT / "build" / "browser-report.json",
                 {"totals": totals, "pages": [asdict(r) for r in reports]},
                 f"browser tests: {len(reports)} pages visited in {totals['seconds']:.0f} s; "
                 f"screenshots in {SHOTS.relative_to(ROOT)}/{{light,dark,phone}}/")


def test_the_pages_visited_are_every_page_of_the_built_site(site_url: str):
    """Checked against the site served to Chromium (and skipped with the rest when there is no Chromium)."""
    assert PATHS == sorted(page.url_path.removesuffix("index.html") for page in site_pages())


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.strip("/") or "home")
def test_page_loads_offline_cleanly_typeset_and_accessible_in_light_and_dark(visitor, path: str):
    report = visitor(path)
    assert report.requests > 0 and len(report.violations) == 2, "axe-core did not run in both color schemes"
    assert report.code_blocks > 0 or path not in CODE_PAGES, "a chapter or notebook shows no code"
    problems = [f"{problem}: {found}" for problem, describe in PROBLEMS.items() if (found := describe(report))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_navigation_holds_the_six_chapters_under_learn_in_order(open_page: Callable[..., Page], viewport: str):
    """Learn, then Interactive, then Under the hood; on a phone the menu opens from its button, to a screenshot."""
    phone = viewport == "phone"
    tab = open_page("./", **({"viewport": PHONE} if phone else {}))
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
    assert list(sections)[:3] == ["Learn", "Interactive", "Under the hood"], list(sections)
    assert [href.lstrip("./") for href in sections["Learn"]] == LEARN, sections["Learn"]
