"""The animations in Chromium, on the built site: a still first frame, nothing playing by itself, every control
reachable and operable by keyboard, the values shown those of the frame data, a text alternative, no NaN, no
console errors, and a page that fits a phone in both color schemes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from browser.page import PHONE, assert_no_nan, dataset, overflow, serious_violations
from helpers import ROOT

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
    """The selector of one animation."""
    return f'.conv-animation[data-src$="/{name}.json"]'


def frames(name: str) -> dict:
    """The frame data of one animation, as `make figures` wrote it to snaps/."""
    return json.loads((ROOT / "snaps" / f"{name}.json").read_text(encoding="utf-8"))


def printed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")


@pytest.fixture
def open_animations(open_page: Callable[..., Page]) -> Callable[..., Page]:
    """Open a page with its animations loaded, the collapsed blocks that hold one opened as a reader would."""

    def open_(path: str, **options) -> Page:
        tab = open_page(path, **options)
        tab.evaluate("document.querySelectorAll('details').forEach((d) => { if (d.querySelector('.conv-animation')) d.open = true; })")
        count = tab.locator(".conv-animation").count()
        tab.wait_for_function(f"() => document.querySelectorAll('.conv-animation[data-state=ok]').length === {count}")
        return tab

    return open_


def shown(tab: Page, name: str) -> dict[str, str]:
    return dataset(tab, widget(name))


@pytest.mark.parametrize("name", PAGES)
def test_animation_opens_on_a_still_first_frame_and_steps_through_the_frame_data(open_animations, name):
    """Without reduced motion too; a screenshot of each, two steps on, lands in build/animation-screenshots/."""
    tab = open_animations(PAGES[name])
    data, root = frames(name), widget(name)
    tab.wait_for_timeout(1600)
    assert shown(tab, name)["step"] == "0", "the animation plays by itself"
    assert tab.locator(f"{root} button[aria-pressed]").get_attribute("aria-pressed") == "false"
    for step in (1, 2):
        tab.locator(f"{root} button", has_text="Step forward").click()
        frame = data["frames"][step]
        state = shown(tab, name)
        assert (int(state["step"]), int(state["row"]), int(state["column"])) == (step, *frame["cell"])
        assert state["value"] == printed(frame["value"], data["decimals"])
        live = tab.inner_text(f"{root} [aria-live=polite]")
        assert live.startswith(f"Step {step + 1} of {len(data['frames'])}:")
        assert live.endswith(f"output cell (row {frame['cell'][0]}, column {frame['cell'][1]}) = {state['value']}.")
        assert tab.inner_text(f"{root} .conv-animation__sum").endswith(f"= {state['value']}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.locator(root).screenshot(path=str(SCREENSHOTS / f"{name}-light-desktop.png"))
    tab.locator(f"{root} button", has_text="Step back").click()
    assert shown(tab, name)["step"] == "1"
    # The output grid shows the values computed so far: one per step taken, and only those.
    numbers = tab.locator(f"{root} figure:last-child .conv-animation__number, {root} figure:last-child .conv-animation__shade")
    assert numbers.count() == 2
    if not data["shade"]:
        assert numbers.all_text_contents() == [printed(f["value"], data["decimals"]) for f in data["frames"][:2]]
    description = tab.inner_text(f"{root} .conv-animation__description")
    assert tab.get_attribute(root, "aria-describedby") and "moves over" in description
    assert_no_nan(tab, root)


def test_keyboard_alone_plays_pauses_and_steps(open_animations):
    tab, root, last = open_animations(PAGES["anim_same"]), widget("anim_same"), len(frames("anim_same")["frames"]) - 1
    tab.focus(f"{root} button >> nth=0")
    focused = []
    for _ in range(4):
        focused.append(tab.evaluate("() => document.activeElement.textContent || document.activeElement.type"))
        assert tab.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none", \
            f"no visible focus on {focused[-1]!r}"
        tab.keyboard.press("Tab")
    assert focused == ["◀ Step back", "Play", "Step forward ▶", "range"], focused
    # Back to Step forward, then onto the slider.
    for key, step in (("Shift+Tab", None), ("Shift+Tab", None), ("Enter", 1), ("Tab", None), ("End", last),
                      ("ArrowLeft", last - 1), ("Home", 0)):
        tab.keyboard.press(key)
        assert step is None or int(shown(tab, "anim_same")["step"]) == step, key
    play = tab.locator(f"{root} button[aria-pressed]")
    play.focus()
    tab.keyboard.press("Space")
    assert play.get_attribute("aria-pressed") == "true" and play.inner_text() == "Pause"
    tab.wait_for_function(f"() => document.querySelector('{root}').dataset.step !== '0'", timeout=5000)
    tab.keyboard.press("Space")
    assert play.get_attribute("aria-pressed") == "false" and play.inner_text() == "Play"


def test_with_reduced_motion_nothing_plays_by_itself_and_stepping_works(open_animations):
    tab, root = open_animations(PAGES["anim_dilation"], reduced_motion="reduce"), widget("anim_dilation")
    tab.wait_for_timeout(1600)
    assert shown(tab, "anim_dilation")["step"] == "0"
    transitions = tab.eval_on_selector_all(f"{root} *", "nodes => nodes.map((n) => getComputedStyle(n).transitionDuration)")
    assert set(transitions) <= {"0s"}, "the window slides instead of jumping"
    tab.locator(f"{root} button", has_text="Step forward").click()
    assert [int(shown(tab, "anim_dilation")[key]) for key in ("row", "column")] == frames("anim_dilation")["frames"][1]["cell"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_animations_fit_a_phone_in_both_schemes_and_pass_axe(open_animations, scheme):
    """With a screenshot of each, moved by its slider to the middle frame, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in sorted(set(PAGES.values())):
        tab = open_animations(path, color_scheme=scheme, viewport=PHONE)
        assert overflow(tab) <= 0, f"{path}: the animations make the page scroll sideways on a phone"
        assert not (serious := serious_violations(tab, ".conv-animation")), f"{path} in {scheme}: {serious}"
        for name in (name for name, page in PAGES.items() if page == path):
            middle = str(len(frames(name)["frames"]) // 2)
            tab.locator(f"{widget(name)} input[type=range]").fill(middle)
            assert shown(tab, name)["step"] == middle
            tab.locator(widget(name)).screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}-phone.png"))
