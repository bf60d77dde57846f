"""The convolution explorer in Chromium: it shows what Keras computes, works from the keyboard, refuses bad
settings in place, never shows NaN and logs no console errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from playwright.sync_api import Page

from browser.page import PHONE, assert_no_nan, dataset, overflow, serious_violations, write_report
from helpers import ROOT

WIDGET = ".conv-explorer"
REPORT = ROOT / "build" / "explorer-report.json"
# (n, k, s, d, padding, p): Keras's uneven "same" on an MNIST-sized input, the page's opening setting,
# dilation 2 with "valid" and with "same", explicit padding, and a stride of 4 on a 32-wide input.
SETTINGS = [(28, 3, 2, 1, "same", 0), (5, 3, 2, 1, "same", 0), (7, 3, 1, 2, "valid", 0), (9, 3, 1, 2, "same", 0),
            (6, 3, 2, 1, "explicit", 1), (32, 7, 4, 1, "explicit", 7)]
redraws: list[dict] = []


def keras_arithmetic(n: int, k: int, s: int, d: int, padding: str, p: int) -> tuple[int, int, int]:
    """Output side and padding (before, after) along one axis, from Keras layers run on an n×n input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from test_explorer import after_from_last_window, one_hot_taps, same_conv_padding_before

    if padding == "same":
        layer = keras.layers.Conv2D(k, k, strides=s, dilation_rate=d, padding="same", use_bias=False)
        layer.build((None, None, None, 1))
        layer.set_weights([one_hot_taps(k)])
        out, before = same_conv_padding_before(layer, n, s, d)
        return out, before, after_from_last_window(n, k, s, d, out, before)
    model = keras.Sequential([keras.layers.ZeroPadding2D(p), keras.layers.Conv2D(1, k, strides=s, dilation_rate=d)])
    return model(np.zeros((1, n, n, 1), "float32")).shape[1], p, p


@pytest.fixture(scope="module", autouse=True)
def redraw_report(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, save how long each redraw after an input change took (measured, never asserted)."""
    yield
    if redraws:
        write_report(request.config, REPORT, {"redraws": redraws},
                     f"explorer: {len(redraws)} redraws after an input change, slowest "
                     f"{max(r['redraw_ms'] for r in redraws):.1f} ms")


@pytest.fixture
def explorer(open_page: Callable[..., Page]) -> Page:
    """The explorer page in a fresh tab, drawn (the test fails if the page logs an error)."""
    return open_page("explorer/", wait=f"{WIDGET}[data-state=ok]", reduced_motion="reduce")


def shown(tab: Page) -> dict[str, str]:
    """The widget's data attributes: its state, output size, padding, window position, last redraw time."""
    return dataset(tab, WIDGET)


def set_field(tab: Page, name: str, value: str) -> None:
    tab.fill(f"{WIDGET} [name={name}]", value)


def choose(tab: Page, n: int, k: int, s: int, d: int, padding: str, p: int) -> None:
    """Enter a setting in the widget's form, as a reader would."""
    tab.select_option(f"{WIDGET} [name=padding]", padding)
    for name, value in (("n", n), ("k", k), ("s", s), ("d", d)):
        set_field(tab, name, str(value))
    if padding == "explicit":
        set_field(tab, "p", str(p))


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda x: "n={} k={} s={} d={} {} p={}".format(*x))
def test_widget_shows_the_output_size_and_padding_keras_computes(explorer: Page, setting):
    n, k, s, d, padding, p = setting
    choose(explorer, *setting)
    data = shown(explorer)
    out, before, after = keras_arithmetic(*setting)
    assert data["state"] == "ok", explorer.inner_text(f"{WIDGET} [role=alert]")
    assert [data[key] for key in ("n", "k", "s", "d", "padding")] == [str(n), str(k), str(s), str(d), padding]
    assert (int(data["out"]), int(data["padBefore"]), int(data["padAfter"])) == (out, before, after)
    side = n + before + after
    assert explorer.locator(f"{WIDGET} .conv-explorer__grid >> nth=0 >> rect[data-row]").count() == side * side
    assert explorer.locator(f"{WIDGET} .conv-explorer__grid >> nth=1 >> rect[data-row]").count() == out * out
    assert explorer.locator(f"{WIDGET} .conv-explorer__tap").count() == k * k
    formula = explorer.inner_text(f"{WIDGET} .conv-explorer__formula")
    assert formula.rstrip().endswith(f"= {out}")
    if padding == "same":
        assert f"{before} before (top, left) and {after} after (bottom, right)" in formula
    assert_no_nan(explorer, WIDGET)
    redraws.append({"setting": dict(zip("n k s d padding p".split(), setting)), "redraw_ms": float(data["redrawMs"])})


def test_selecting_an_output_cell_shows_the_input_cells_it_reads(explorer: Page):
    choose(explorer, 28, 3, 2, 1, "same", 0)
    explorer.click(f"{WIDGET} .conv-explorer__grid >> nth=1 >> rect[data-row='13'][data-column='0']")
    assert int(shown(explorer)["position"]) == 13 * 14
    status = explorer.inner_text(f"{WIDGET} .conv-explorer__status")
    # Keras pads nothing before, so output row 13 reads rows 26 to 28, the last one on the padding after.
    assert "output cell (row 13, column 0) reads input rows 26 to 28 and columns 0 to 2" in status
    assert "3 of its 9 taps fall in the padding" in status


def test_keyboard_alone_changes_the_settings_and_moves_the_window(explorer: Page):
    explorer.focus(f"{WIDGET} [name=n]")
    explorer.keyboard.press("Control+A")
    explorer.keyboard.type("7")
    explorer.keyboard.press("Tab")
    assert explorer.evaluate("() => document.activeElement.name") == "k"
    assert int(shown(explorer)["padAfter"]) == 1 and shown(explorer)["out"] == "4"  # n=7, k=3, s=2: same
    focused = []
    for _ in range(12):  # the grids and the window's controls are all reachable with Tab
        explorer.keyboard.press("Tab")
        focused.append(explorer.evaluate("() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent"))
        outline = explorer.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"no visible focus on {focused[-1]!r}"
        if focused[-1].startswith("Output grid"):
            break
    assert focused[-1].startswith("Output grid"), focused
    explorer.keyboard.press("ArrowRight")
    assert shown(explorer)["position"] == "1"
    explorer.keyboard.press("ArrowDown")
    assert shown(explorer)["position"] == "5"
    explorer.keyboard.press("End")
    assert shown(explorer)["position"] == "15"
    explorer.focus(f"{WIDGET} input[type=range]")
    explorer.keyboard.press("ArrowLeft")
    assert shown(explorer)["position"] == "14"
    assert "Window 15 of 16" in explorer.inner_text(f"{WIDGET} [aria-live=polite]")


def test_play_steps_through_the_windows_only_when_asked(explorer: Page):
    explorer.wait_for_timeout(1600)
    assert shown(explorer)["position"] == "0", "the explorer plays by itself"
    play = explorer.locator(f"{WIDGET} button[aria-pressed]")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    explorer.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.position !== '0'", timeout=5000)
    play.click()
    assert play.get_attribute("aria-pressed") == "false" and play.inner_text() == "Play"


@pytest.mark.parametrize("field, value, message", [
    ("n", "40", "Input size n must be from 1 to 32, not 40."),
    ("k", "three", "Kernel size k must be a whole number from 1 to 7, not “three”."),
    ("k", "7", "No output: the dilated window spans 7 cells, more than the 5 of the padded input."),
], ids=["out-of-range", "text", "window-too-large"])
def test_bad_settings_are_refused_inside_the_widget_with_one_clear_line(explorer: Page, field, value, message):
    explorer.select_option(f"{WIDGET} [name=padding]", "valid")
    set_field(explorer, field, value)
    assert shown(explorer)["state"] == "error"
    assert explorer.inner_text(f"{WIDGET} [role=alert]") == message
    assert explorer.locator(f"{WIDGET} .conv-explorer__figures").is_hidden()
    assert "out" not in shown(explorer)
    assert_no_nan(explorer, WIDGET)
    set_field(explorer, field, {"n": "5", "k": "3"}[field])
    assert shown(explorer)["state"] == "ok" and explorer.inner_text(f"{WIDGET} [role=alert]") == ""


def test_the_largest_grid_fits_a_phone_and_passes_axe(explorer: Page):
    explorer.set_viewport_size(PHONE)
    choose(explorer, 32, 7, 1, 1, "explicit", 7)
    assert shown(explorer)["out"] == "40"
    assert overflow(explorer) <= 0, "the explorer makes the page scroll sideways on a phone"
    assert not (serious := serious_violations(explorer, WIDGET)), f"with the widget drawn: {serious}"
    set_field(explorer, "n", "0")
    assert not (serious := serious_violations(explorer, WIDGET)), f"with the widget showing an error: {serious}"
