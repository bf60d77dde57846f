"""What the browser tests read off a page: a widget's data attributes, NaN shown, sideways scrolling, axe-core's
findings, the color scheme; and the JSON report a test module leaves in build/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from helpers import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")
AXE_ALL = {"resultTypes": ["violations"]}
AXE_JS = """async (options) => (await axe.run(document, options)).violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
  targets: v.nodes.slice(0, 3).map((node) => node.target.join(" ")),
  summary: (v.nodes[0] && v.nodes[0].failureSummary || "").slice(0, 300),
}))"""
SCHEME_JS = """() => document.body.getAttribute("data-md-color-scheme")"""
PALETTE_TOGGLE = "form[data-md-component=palette] label:not([hidden])"


def dataset(tab: Page, selector: str) -> dict[str, str]:
    """The data attributes of the first element `selector` finds: a widget's state, as it publishes it."""
    return tab.eval_on_selector(selector, "root => ({...root.dataset})")


def assert_no_nan(tab: Page, selector: str) -> None:
    """Fail if the element shows NaN, undefined or Infinity anywhere in its markup."""
    markup = tab.eval_on_selector(selector, "root => root.innerHTML")
    assert not re.search(r"NaN|undefined|Infinity", markup), f"{selector} shows NaN, undefined or Infinity"


def axe(tab: Page, options: dict = AXE_ALL) -> list[dict]:
    """axe-core's violations on the page, run with `options`."""
    if not tab.evaluate("() => 'axe' in window"):
        tab.add_script_tag(path=str(AXE))
    return tab.evaluate(AXE_JS, options)


def serious_violations(tab: Page, inside: str) -> list[dict]:
    """axe-core's serious and critical violations inside the elements `inside` finds."""
    return [v for v in axe(tab, {**AXE_ALL, "include": [[inside]]}) if v["impact"] in SERIOUS]


def overflow(tab: Page) -> int:
    """How far the page scrolls sideways, in pixels (0 or less when it fits)."""
    return tab.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def toggle_palette(tab: Page) -> str | None:
    """Click the visible light/dark toggle; the color scheme it switched to, or None if there is no toggle."""
    before = tab.evaluate(SCHEME_JS)
    toggle = tab.locator(PALETTE_TOGGLE)
    if toggle.count() != 1:
        return None
    toggle.click()
    tab.wait_for_function(f"() => ({SCHEME_JS})() !== {before!r}", timeout=5000)
    return tab.evaluate(SCHEME_JS)


def write_report(config: pytest.Config, path: Path, data: dict, *lines: str) -> None:
    """Save measurements as JSON in `path`, and print `lines` about them past pytest's capture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("", *lines, f"report in {path.relative_to(ROOT)}", sep="\n")
