"""The animations in Chromium, on the built site: a still first frame, nothing playing by itself, every control
reachable and operable by keyboard, the values shown those of the frame data, a text alternative, no NaN, no
console errors, and a page that fits a phone in both color schemes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest

from browser.chromium import INSTALL_HINT, find_chromium
from helpers import ROOT
from site_build import built_site, site_url_path

CHROMIUM = find_chromium()
if CHROMIUM is None:
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but no browser was found: {INSTALL_HINT}")
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

from browser.server import serve  # noqa: E402
from browser.visit import AXE, AXE_JS, OVERFLOW_JS, PHONE, SERIOUS  # noqa: E402

# Each animation and the page that plays it.
PAGES = {
    "anim_valid": "padding/",
    "anim_same": "padding/",
    "anim_stride_valid": "strides/",
    "anim_stride_same": "strides/",
    "anim_dilation": "strides/",
    "anim_max_pool": "max-pooling/",
    "anim_filter": "convolution/",
}
SCREENSHOTS = ROOT / "build" / "animation-screenshots"


def widget(name: str) -> str:
    return f'.conv-animation[data-src$="/{name}.json"]'


def frames(name: str) -> list[dict]:
    return json.loads((ROOT / "snaps" / f"{name}.json").read_text(encoding="utf-8"))["frames"]


def printed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")


@pytest.fixture(scope="module")
def site_base() -> Iterator[str]:
    with serve(built_site(), site_url_path()) as base:
        yield base


def open_page(browser, site_base: str, path: str, errors: list[str], **options) -> Page:
    """A page of the site in a fresh context, its animations loaded; console errors go to `errors`."""
    context = browser.new_context(service_workers="block", **{"color_scheme": "light", **options})
    tab = context.new_page()
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    tab.goto(urljoin(site_base, path))
    # Open the collapsed blocks ("Going further") that hold an animation, as a reader would.
    tab.evaluate("document.querySelectorAll('details').forEach((d) => { if (d.querySelector('.conv-animation')) d.open = true; })")
    count = tab.locator(".conv-animation").count()
    tab.wait_for_function(f"() => document.querySelectorAll('.conv-animation[data-state=ok]').length === {count}")
    return tab


@pytest.fixture
def errors() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert not found, "console errors:\n" + "\n".join(found)


def shown(tab: Page, name: str) -> dict[str, str]:
    return tab.eval_on_selector(widget(name), "root => ({...root.dataset})")


def no_nan(tab: Page, name: str) -> None:
    markup = tab.eval_on_selector(widget(name), "root => root.innerHTML")
    assert not re.search(r"NaN|undefined|Infinity", markup), f"{name} shows NaN, undefined or Infinity"


@pytest.mark.parametrize("name", PAGES)
def test_animation_opens_on_a_still_first_frame_and_steps_through_the_frame_data(browser, site_base, errors, name):
    tab = open_page(browser, site_base, PAGES[name], errors)
    data = json.loads((ROOT / "snaps" / f"{name}.json").read_text(encoding="utf-8"))
    root = widget(name)
    tab.wait_for_timeout(1600)
    assert shown(tab, name)["step"] == "0", "the animation plays by itself"
    assert tab.locator(f"{root} button[aria-pressed]").get_attribute("aria-pressed") == "false"
    forward = tab.locator(f"{root} button", has_text="Step forward")
    back = tab.locator(f"{root} button", has_text="Step back")
    for step in (1, 2):
        forward.click()
        frame = data["frames"][step]
        state = shown(tab, name)
        assert (int(state["step"]), int(state["row"]), int(state["column"])) == (step, *frame["cell"])
        assert state["value"] == printed(frame["value"], data["decimals"])
        live = tab.inner_text(f"{root} [aria-live=polite]")
        assert live.startswith(f"Step {step + 1} of {len(data['frames'])}:")
        assert live.endswith(f"output cell (row {frame['cell'][0]}, column {frame['cell'][1]}) = {state['value']}.")
        assert tab.inner_text(f"{root} .conv-animation__sum").endswith(f"= {state['value']}")
    back.click()
    assert shown(tab, name)["step"] == "1"
    # The output grid shows the values computed so far: one per step taken, and only those.
    numbers = tab.locator(f"{root} figure:last-child .conv-animation__number, {root} figure:last-child .conv-animation__shade")
    assert numbers.count() == 2
    if not data["shade"]:
        assert numbers.all_text_contents() == [printed(f["value"], data["decimals"]) for f in data["frames"][:2]]
    description = tab.inner_text(f"{root} .conv-animation__description")
    assert tab.get_attribute(root, "aria-describedby") and "moves over" in description
    no_nan(tab, name)
    tab.context.close()


def test_keyboard_alone_plays_pauses_and_steps(browser, site_base, errors):
    tab = open_page(browser, site_base, PAGES["anim_same"], errors)
    root = widget("anim_same")
    tab.focus(f"{root} button >> nth=0")
    focused = []
    for _ in range(4):
        focused.append(tab.evaluate("() => document.activeElement.textContent || document.activeElement.type"))
        assert tab.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none", \
            f"no visible focus on {focused[-1]!r}"
        tab.keyboard.press("Tab")
    assert focused == ["◀ Step back", "Play", "Step forward ▶", "range"], focused
    tab.keyboard.press("Shift+Tab")
    tab.keyboard.press("Shift+Tab")
    tab.keyboard.press("Enter")  # on Step forward
    assert shown(tab, "anim_same")["step"] == "1"
    tab.keyboard.press("Tab")
    tab.keyboard.press("End")  # on the slider
    assert int(shown(tab, "anim_same")["step"]) == len(frames("anim_same")) - 1
    tab.keyboard.press("ArrowLeft")
    assert int(shown(tab, "anim_same")["step"]) == len(frames("anim_same")) - 2
    tab.keyboard.press("Home")
    assert shown(tab, "anim_same")["step"] == "0"
    play = tab.locator(f"{root} button[aria-pressed]")
    play.focus()
    tab.keyboard.press("Space")
    assert play.get_attribute("aria-pressed") == "true" and play.inner_text() == "Pause"
    tab.wait_for_function(f"() => document.querySelector('{root}').dataset.step !== '0'", timeout=5000)
    tab.keyboard.press("Space")
    assert play.get_attribute("aria-pressed") == "false" and play.inner_text() == "Play"
    tab.context.close()


def test_with_reduced_motion_nothing_plays_by_itself_and_stepping_works(browser, site_base, errors):
    tab = open_page(browser, site_base, PAGES["anim_dilation"], errors, reduced_motion="reduce")
    root = widget("anim_dilation")
    tab.wait_for_timeout(1600)
    assert shown(tab, "anim_dilation")["step"] == "0"
    transitions = tab.eval_on_selector_all(f"{root} *", "nodes => nodes.map((n) => getComputedStyle(n).transitionDuration)")
    assert set(transitions) <= {"0s"}, "the window slides instead of jumping"
    tab.locator(f"{root} button", has_text="Step forward").click()
    frame = frames("anim_dilation")[1]
    assert [int(shown(tab, "anim_dilation")[key]) for key in ("row", "column")] == frame["cell"]
    tab.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_animations_fit_a_phone_in_both_schemes_and_pass_axe(browser, site_base, errors, scheme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in sorted(set(PAGES.values())):
        tab = open_page(browser, site_base, path, errors, color_scheme=scheme, viewport=PHONE)
        assert tab.evaluate(OVERFLOW_JS) <= 0, f"{path}: the animations make the page scroll sideways on a phone"
        tab.add_script_tag(path=str(AXE))
        options = {"resultTypes": ["violations"], "include": [[".conv-animation"]]}
        serious = [v for v in tab.evaluate(AXE_JS, options) if v["impact"] in SERIOUS]
        assert not serious, f"{path} in {scheme}: {serious}"
        tab.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_an_animation_on_desktop_and_phone(browser, site_base, errors, scheme):
    """Screenshots for a person to look at, in build/animation-screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport, label in (({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")):
        tab = open_page(browser, site_base, PAGES["anim_stride_same"], errors, color_scheme=scheme, viewport=viewport)
        root = widget("anim_stride_same")
        tab.locator(f"{root} button", has_text="Step forward").click()
        tab.locator(root).screenshot(path=str(SCREENSHOTS / f"anim_stride_same-{scheme}-{label}.png"))
        filt = widget("anim_filter")
        tab.goto(urljoin(site_base, PAGES["anim_filter"]))
        tab.wait_for_selector(f"{filt}[data-state=ok]")
        tab.locator(f"{filt} input[type=range]").fill("300")
        tab.locator(filt).screenshot(path=str(SCREENSHOTS / f"anim_filter-{scheme}-{label}.png"))
        tab.context.close()
