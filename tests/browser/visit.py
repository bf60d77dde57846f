"""Visit every page of the served site in Chromium once, and record what a reader would run into."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")

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
  const missing = [];
  let count = 0;
  for (const code of document.querySelectorAll("article pre > code")) {
    if (code.closest(".jupyter-wrapper")) continue;
    count += 1;
    if (!code.parentElement.querySelector("button.md-clipboard, button[data-md-type=copy]")) missing.push(code.textContent.trim().slice(0, 50));
  }
  for (const editor of document.querySelectorAll("article .jp-CodeCell .jp-InputArea-editor")) {
    count += 1;
    if (!editor.querySelector("clipboard-copy")) missing.push(editor.textContent.trim().slice(0, 50));
  }
  return {count, missing};
}"""

NOTEBOOK_JS = """() => ({
  notebook: Boolean(document.querySelector("article .jupyter-wrapper")),
  downloads: [...document.querySelectorAll("a[href$='.ipynb']")].map((link) => link.href),
})"""

# Every axe-core rule in the first color scheme; in the second, only the rules that depend on colors.
AXE_ALL = {"resultTypes": ["violations"]}
AXE_COLORS = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
AXE_JS = """async (options) => (await axe.run(document, options)).violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
  targets: v.nodes.slice(0, 3).map((node) => node.target.join(" ")),
  summary: (v.nodes[0] && v.nodes[0].failureSummary || "").slice(0, 300),
}))"""

OVERFLOW_JS = """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""

SCHEME_JS = """() => document.body.getAttribute("data-md-color-scheme")"""
PALETTE_TOGGLE = "form[data-md-component=palette] label:not([hidden])"


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
    notebook: bool = False
    downloads: list[str] = field(default_factory=list)
    violations: dict[str, list[dict]] = field(default_factory=dict)
    phone_overflow_px: int = 0
    screenshots: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def serious_violations(self) -> list[str]:
        """The serious and critical accessibility violations, one line each, in either color scheme."""
        return [
            f"{scheme}: {v['id']} ({v['impact']}, {v['nodes']} elements: {', '.join(v['targets'])}): {v['help']}"
            for scheme, found in self.violations.items()
            for v in found
            if v["impact"] in SERIOUS
        ]

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        return asdict(self)


class Recorder:
    """Listen on one tab and one context, filing each event under the page being visited."""

    def __init__(self, context: BrowserContext, tab: Page, origin: str) -> None:
        self.origin = origin
        self.current = PageReport("")
        context.route("**/*", self._route)
        tab.on("request", self._request)
        tab.on("requestfailed", self._failed)
        tab.on("response", self._response)
        tab.on("console", self._console)
        tab.on("pageerror", lambda error: self.current.console_errors.append(f"uncaught: {error}"))

    def _route(self, route: Route) -> None:
        if route.request.url.startswith(self.origin):
            route.continue_()
        else:
            self.current.external_requests.append(route.request.url)
            route.abort()

    def _request(self, request: Request) -> None:
        self.current.requests += 1

    def _failed(self, request: Request) -> None:
        self.current.failed_requests.append(f"{request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.current.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.current.console_errors.append(message.text)


def toggle_palette(tab: Page) -> str | None:
    """Click the visible light/dark toggle; the color scheme it switched to, or None if there is no toggle."""
    before = tab.evaluate(SCHEME_JS)
    toggle = tab.locator(PALETTE_TOGGLE)
    if toggle.count() != 1:
        return None
    toggle.click()
    tab.wait_for_function(f"() => ({SCHEME_JS})() !== {before!r}", timeout=5000)
    return tab.evaluate(SCHEME_JS)


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
    notebook = tab.evaluate(NOTEBOOK_JS)
    report.notebook, report.downloads = notebook["notebook"], notebook["downloads"]
    tab.add_script_tag(path=str(AXE))

    name = path.removesuffix("index.html").strip("/").replace("/", "-") or "index"
    name = name.removesuffix(".html")
    scheme = tab.evaluate(SCHEME_JS) or "default"
    report.violations[scheme] = tab.evaluate(AXE_JS, AXE_ALL)
    report.screenshots.append(_shoot(tab, shots / "light" / f"{name}.png"))
    dark = toggle_palette(tab)
    if dark:
        tab.wait_for_timeout(200)  # let the color transitions finish
        report.violations[dark] = tab.evaluate(AXE_JS, AXE_COLORS)
        report.screenshots.append(_shoot(tab, shots / "dark" / f"{name}.png"))
        toggle_palette(tab)
    tab.set_viewport_size(PHONE)
    tab.wait_for_timeout(200)
    report.phone_overflow_px = tab.evaluate(OVERFLOW_JS)
    report.screenshots.append(_shoot(tab, shots / "phone" / f"{name}.png"))
    tab.set_viewport_size(DESKTOP)
    report.seconds = round(time.monotonic() - started, 2)
    recorder.current = PageReport("")
    return report


def _shoot(tab: Page, path: Path) -> str:
    """A full-page screenshot; its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(path), full_page=True)
    return str(path.relative_to(ROOT))
