"""Visit a page of the served site in Chromium, light, dark and phone-sized, and record what a reader would run into."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Request, Response, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser.page import DESKTOP, PHONE, SCHEME_JS, SERIOUS, axe, overflow, toggle_palette

# Images: load lazy ones too, wait for each (at most 10 s), then report those that did not decode.
IMAGES_JS = """async () => {
  const images = [...document.images];
  images.forEach((image) => { if (image.loading === "lazy") image.loading = "eager"; });
  const settled = (image) => image.complete ? null : new Promise((done) => {
    image.addEventListener("load", done); image.addEventListener("error", done);
  });
  await Promise.race([Promise.all(images.map(settled)), new Promise((done) => setTimeout(done, 10000))]);
  return {count: images.length,
          broken: images.filter((image) => !(image.naturalWidth > 0)).map((image) => (image.getAttribute("src") || "").slice(0, 80))};
}"""

# Math left as TeX (arithmatex spans MathJax did not replace; $$, \( or \[ or $...$ in prose), or typeset blank.
RAW_MATH_JS = r"""() => {
  const root = document.querySelector("article") || document.body;
  const raw = [...root.querySelectorAll(".arithmatex")].filter((el) => !el.querySelector("mjx-container"))
    .map((el) => el.textContent.trim().slice(0, 60));
  const skip = "pre, code, script, style, textarea, mjx-container, .arithmatex";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT,
    {acceptNode: (node) => node.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const tex = /\$\$|\\\(|\\\[|\$[^$\s][^$]*\$/;
  for (let node; (node = walker.nextNode());) {
    if (tex.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 60));
  }
  // Typeset but blank: MathJax draws each glyph as the ::before content of an mjx-c element.
  const drawn = (container) => container.querySelector("mjx-utext") || [...container.querySelectorAll("mjx-c")]
    .some((glyph) => !["none", "normal", '""'].includes(getComputedStyle(glyph, "::before").content));
  const blank = [...root.querySelectorAll("mjx-container")].filter((container) => !drawn(container));
  if (blank.length) raw.push(`${blank.length} typeset formulas draw no glyphs`);
  return raw;
}"""

ALL_MATH_TYPESET_JS = """() => [...document.querySelectorAll("article .arithmatex")].every((el) => el.querySelector("mjx-container"))"""

# Code blocks: Material's blocks need its copy button, notebook input cells need mkdocs-jupyter's.
COPY_BUTTONS_JS = """() => {
  const blocks = [...document.querySelectorAll("article pre > code")].filter((code) => !code.closest(".jupyter-wrapper"))
    .map((code) => [code, code.parentElement.querySelector("button.md-clipboard, button[data-md-type=copy]")]);
  const cells = [...document.querySelectorAll("article .jp-CodeCell .jp-InputArea-editor")]
    .map((editor) => [editor, editor.querySelector("clipboard-copy")]);
  const all = [...blocks, ...cells];
  return {count: all.length, missing: all.filter(([, button]) => !button).map(([code]) => code.textContent.trim().slice(0, 50))};
}"""

# In the second color scheme, only the axe-core rules that depend on colors.
AXE_COLORS = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}


@dataclass
class PageReport:
    """Everything recorded on one page."""

    path: str
    status: int | None = None
    requests: int = 0
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    raw_math: list[str] = field(default_factory=list)
    code_blocks: int = 0
    missing_copy_buttons: list[str] = field(default_factory=list)
    violations: dict[str, list[dict]] = field(default_factory=dict)
    phone_overflow_px: int = 0
    seconds: float = 0.0

    def serious_violations(self) -> list[str]:
        """The serious and critical accessibility violations, one line each, in either color scheme."""
        return [f"{scheme}: {v['id']} ({v['impact']}, {v['nodes']} elements: {', '.join(v['targets'])}): {v['help']}"
                for scheme, found in self.violations.items() for v in found if v["impact"] in SERIOUS]


class Recorder:
    """Listen on one tab and one context, filing each event under the page being visited."""

    def __init__(self, context: BrowserContext, tab: Page, origin: str) -> None:
        self.origin, self.current = origin, PageReport("")
        context.route("**/*", self._route)
        tab.on("request", self._request)
        tab.on("requestfailed", lambda request: self.current.failed_requests.append(f"{request.url} ({request.failure})"))
        tab.on("response", self._response)
        tab.on("console", lambda message: message.type == "error" and self.current.console_errors.append(message.text))
        tab.on("pageerror", lambda error: self.current.console_errors.append(f"uncaught: {error}"))

    def _route(self, route: Route) -> None:
        """Let requests to the site through; abort and record any other."""
        if route.request.url.startswith(self.origin):
            route.continue_()
        else:
            self.current.external_requests.append(route.request.url)
            route.abort()

    def _request(self, request: Request) -> None:
        self.current.requests += 1

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.current.failed_requests.append(f"{response.url} (HTTP {response.status})")


def visit(tab: Page, recorder: Recorder, url: str, path: str, shots: Path) -> PageReport:
    """Load one page and run every check on it; screenshots go to shots/{light,dark,phone}/."""
    report = recorder.current = PageReport(path)
    started = time.monotonic()
    tab.set_viewport_size(DESKTOP)
    response = tab.goto(url, wait_until="load")
    report.status = response.status if response else None
    tab.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
    try:
        tab.wait_for_function(ALL_MATH_TYPESET_JS, timeout=10000)
    except PlaywrightTimeout:
        pass  # what stayed raw is reported below
    tab.wait_for_load_state("networkidle")
    images = tab.evaluate(IMAGES_JS)
    report.images, report.broken_images = images["count"], images["broken"]
    report.raw_math = tab.evaluate(RAW_MATH_JS)
    copy = tab.evaluate(COPY_BUTTONS_JS)
    report.code_blocks, report.missing_copy_buttons = copy["count"], copy["missing"]
    name = path.removesuffix("index.html").strip("/").replace("/", "-").removesuffix(".html") or "index"
    scheme = tab.evaluate(SCHEME_JS) or "default"
    report.violations[scheme] = axe(tab)
    _shoot(tab, shots / "light" / f"{name}.png")
    dark = toggle_palette(tab)
    if dark:
        tab.wait_for_timeout(200)  # let the color transitions finish
        report.violations[dark] = axe(tab, AXE_COLORS)
        _shoot(tab, shots / "dark" / f"{name}.png")
        toggle_palette(tab)
    tab.set_viewport_size(PHONE)
    tab.wait_for_timeout(200)
    report.phone_overflow_px = overflow(tab)
    _shoot(tab, shots / "phone" / f"{name}.png")
    tab.set_viewport_size(DESKTOP)
    report.seconds = round(time.monotonic() - started, 2)
    recorder.current = PageReport("")
    return report


def _shoot(tab: Page, path: Path) -> None:
    """Save a full-page screenshot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(path), full_page=True)
