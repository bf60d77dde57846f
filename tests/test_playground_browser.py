"""The playground in Chromium: the live page's forward pass against Keras on every layer of 256 test digits,
drawings made with the mouse and read as Keras reads them, receptive fields, the keyboard, damaged weights
files, Material's instant navigation, both color schemes, a phone, axe; the arithmetic panel's numbers against
Keras's weights and outputs; a reader's own exports, bad ones refused in a sentence and good ones run as Keras
runs them; and a report of the forward-pass times, the panel's update time and the frame times while drawing
(measured, never asserted: rule 7)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from playwright.sync_api import Page

from browser.page import DESKTOP, PHONE, dataset, overflow, serious_violations, toggle_palette, write_report
from browser.server import serve
from helpers import ROOT
from playground_fixture import LAYER_TOLERANCE, PROBABILITY_TOLERANCE, PUBLISHED, layer_outputs, model_layers, \
    published_model, relative_url, session_architectures, session_fixture
from site_build import CONFIG, site_url_path

WIDGET = ".convnet-playground"
PAGE = "playground/"
REPORT = ROOT / "build" / "playground-browser-report.json"
SHOTS = ROOT / "build" / "screenshots" / "playground"
# Digits drawn on the 280×280 pad, as strokes of (x, y) points.
DIGITS = {
    1: [[(150, 40), (140, 240)]],
    0: [[(140 + 60 * np.sin(t), 140 - 95 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 33)]],
    7: [[(70, 50), (210, 50), (120, 240)]],
}
report: dict = {}

# The page's module, imported in the page (the very module instance the playground uses), checked against a
# fixture set: the largest difference per layer over all digits, and the predicted classes.
CHECK_JS = """async ([moduleUrl, set]) => {
  const m = await import(moduleUrl);
  const file = async ([url, name]) => new File([await (await fetch(url)).blob()], name);
  const net = set.files ? await m.readModelFiles(await Promise.all(set.files.map(file))) : (await m.loadConvnet(set.manifest)).net;
  const floats = async (url) => new Float32Array(await (await fetch(url)).arrayBuffer());
  const [inputs, reference] = await Promise.all([floats(set.inputs), floats(set.reference)]);
  const worst = set.layers.map(() => 0), classes = [];
  for (let n = 0; n < set.count; n++) {
    const outputs = m.forward(net, inputs.subarray(n * 784, (n + 1) * 784));
    outputs.forEach((output, i) => {
      const size = output.data.length, base = set.layers[i].offset + n * size;
      for (let j = 0; j < size; j++) worst[i] = Math.max(worst[i], Math.abs(output.data[j] - reference[base + j]));
    });
    classes.push(m.argmax(outputs[outputs.length - 1].data));
  }
  return { worst, classes };
}"""

# The median and 90th percentile of one forward pass, all feature maps kept, after a warm-up, on the book's test
# digits: of the book's network, or of one read from `files` ([[url, name], ...]) as the page reads a reader's.
SPEED_JS = """async ([moduleUrl, manifestUrl, files]) => {
  const m = await import(moduleUrl);
  const book = await m.loadConvnet(manifestUrl);
  const file = async ([url, name]) => new File([await (await fetch(url)).blob()], name);
  const net = files ? await m.readModelFiles(await Promise.all(files.map(file))) : book.net;
  const digits = book.digits;
  const input = (i) => Float32Array.from(digits.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  for (let i = 0; i < 30; i++) m.forward(net, input(i));
  const times = [];
  for (let i = 0; i < 200; i++) {
    const x = input(i % 100);
    const start = performance.now();
    m.forward(net, x);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median_ms: times[100], p90_ms: times[180], runs: times.length };
}"""

# Frame times while drawing: every animation frame's gap, and the long tasks Chromium reports (over 50 ms).
FRAMES_JS = """() => {
  window.__frames = { gaps: [], longTasks: 0, last: performance.now(), running: true };
  new PerformanceObserver((list) => { window.__frames.longTasks += list.getEntries().length; }).observe({ type: "longtask" });
  const tick = (now) => {
    const f = window.__frames;
    f.gaps.push(now - f.last);
    f.last = now;
    if (f.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


@pytest.fixture(scope="module", autouse=True)
def speed_report(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, save and print the forward pass's time, the frames while drawing and the differences
    from Keras (measured, never asserted)."""
    yield
    lines = {"forward": "playground in Chromium: one forward pass with every feature map, median {median_ms:.2f} ms "
                        "(90th percentile {p90_ms:.2f} ms) over {runs} runs",
             "drawing": "playground while drawing: {frames} frames, longest {longest_frame_ms:.1f} ms, {long_tasks} "
                        "long tasks, the network ran {network_runs} times"}
    if report:
        write_report(request.config, REPORT, report, *(line.format(**report[key]) for key, line in lines.items()
                                                       if key in report), f"screenshots in {SHOTS.relative_to(ROOT)}/")


@pytest.fixture
def open_tab(open_page: Callable[..., Page]) -> Callable[..., Page]:
    """Open the playground (or `path`) with reduced motion, and wait for the playground's `state` if one is given."""
    return lambda path=PAGE, state="empty", **options: open_page(
        path, wait=state and f"{WIDGET}[data-state={state}]", **{"reduced_motion": "reduce", **options})


def shown(tab: Page) -> dict[str, str]:
    return dataset(tab, WIDGET)


def draw(tab: Page, strokes: list[list[tuple[float, float]]], steps: int = 8) -> None:
    """Draw strokes on the pad with the mouse, in pad coordinates (0 to 280), then wait for the network."""
    box = tab.locator(f"{WIDGET} .convnet-playground__pad").bounding_box()
    scale = box["width"] / 280
    at = lambda x, y: (box["x"] + x * scale, box["y"] + y * scale)  # noqa: E731
    runs = int(shown(tab).get("runs", 0))
    for stroke in strokes:
        tab.mouse.move(*at(*stroke[0]))
        tab.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for k in range(1, steps + 1):
                tab.mouse.move(*at(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps))
        tab.mouse.up()
    tab.wait_for_function(f"() => Number(document.querySelector('{WIDGET}').dataset.runs || 0) > {runs}")
    tab.wait_for_timeout(100)  # the last frame's rerun


def button(tab: Page, name: str):
    return tab.locator(WIDGET).get_by_role("button", name=name, exact=True)


def click_unit(tab: Page, index: int, row: int, column: int) -> None:
    """Click unit (row, column) of the first map of the index-th layer shown."""
    canvas = tab.locator(f"{WIDGET} .convnet-playground__map canvas").nth(index)
    scale = canvas.bounding_box()["width"] / int(canvas.get_attribute("width"))
    canvas.click(position={"x": (column + 0.5) * scale, "y": (row + 0.5) * scale})


def page_input(tab: Page) -> np.ndarray:
    return np.array(tab.evaluate(f"() => Array.from(document.querySelector('{WIDGET}').convnetInput)"), "float32")


def page_probabilities(tab: Page) -> np.ndarray:
    return np.array(tab.evaluate(f"() => Array.from(document.querySelector('{WIDGET}').convnetOutputs.at(-1).data)"))


@functools.cache
def keras_model():
    return published_model()


def keras_probabilities(image: np.ndarray) -> np.ndarray:
    return keras_model().predict(image.reshape(1, 28, 28, 1), verbose=0)[0]


def manifest() -> dict:
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


def keras_receptive_fields() -> list[tuple[int, int]]:
    """(size, jump) of each Conv2D and MaxPooling2D layer of the book's convnet, from convnets.shapes."""
    from convnets.shapes import receptive_fields, window_layers

    windows = [window[1:] for window in window_layers(keras_model())]
    jumps = list(np.cumprod([stride for _, stride in windows]))
    return list(zip(receptive_fields(windows), jumps))


def test_the_live_pages_forward_pass_matches_keras_on_every_layer_of_the_books_model_and_each_architecture(
        open_tab, site_url):
    fixture_path = session_fixture()
    fixture = json.loads(fixture_path.read_text())
    tab = open_tab(routes={"**/_check/**": lambda route: route.fulfill(
        path=str(fixture_path.parent / route.request.url.split("/_check/", 1)[1]))})
    url = lambda path: urljoin(site_url, "_check/" + relative_url(fixture_path, str(path)))  # noqa: E731
    report["keras"] = {}
    for entry in fixture["sets"] + fixture["architectures"]:
        manifest_path = Path(entry["manifest"])
        set_ = {"reference": url(entry["reference"]), "inputs": url(fixture["inputs"]),
                "count": entry["count"], "layers": entry["layers"]}
        if entry in fixture["architectures"]:  # read from the reader's two files, as the page's file input does
            set_["files"] = [[url(path), path.name] for path in export_files(manifest_path)]
        else:
            set_["manifest"] = url(manifest_path)
        result = tab.evaluate(CHECK_JS, [urljoin(site_url, "javascripts/convnet.mjs"), set_])
        worst = dict(zip([layer["name"] for layer in entry["layers"]], result["worst"]))
        report["keras"][entry["name"]] = worst
        *layers, probabilities = result["worst"]
        assert max(layers) <= LAYER_TOLERANCE, f"{entry['name']}: {worst}"
        assert probabilities <= PROBABILITY_TOLERANCE, f"{entry['name']}: {worst}"
        assert result["classes"] == entry["predicted"], f"{entry['name']}: classes differ from Keras's"
    assert fixture["count"] >= 200 and [entry["count"] for entry in fixture["architectures"]] == [50] * 3


@pytest.mark.parametrize("digit", sorted(DIGITS))
def test_a_digit_drawn_with_the_mouse_is_read_as_keras_reads_the_image_the_page_shows(open_tab, digit):
    tab = open_tab()
    draw(tab, DIGITS[digit])
    state = shown(tab)
    assert state["state"] == "ok" and state["source"] == "drawing"
    image = page_input(tab).reshape(28, 28)
    rows, columns = np.nonzero(image)
    assert max(np.ptp(rows), np.ptp(columns)) + 1 == 20, "the drawing is not fitted into a 20×20 box"
    mass = image.sum()
    centre = (np.arange(28) @ image.sum(axis=1) / mass, np.arange(28) @ image.sum(axis=0) / mass)
    assert all(abs(c - 14) <= 0.5 for c in centre), f"centre of mass at {centre}"
    keras = keras_probabilities(image)
    assert np.abs(page_probabilities(tab) - keras).max() <= PROBABILITY_TOLERANCE
    assert int(state["predicted"]) == int(keras.argmax()) == digit, f"the drawn {digit} is read as {state['predicted']}"
    shown_values = tab.locator(f"{WIDGET} .convnet-playground__value").all_inner_texts()
    assert shown_values == [f"{100 * p:.1f}%" for p in page_probabilities(tab)]
    assert tab.inner_text(f"{WIDGET} .convnet-playground__verdict").startswith(f"The network reads a {digit} (")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.locator(f"{WIDGET} .convnet-playground__top").screenshot(path=str(SHOTS / f"drawn-{digit}.png"))


def test_a_finger_draws_on_the_pad_without_scrolling_the_page(open_tab):
    tab = open_tab(viewport=PHONE, has_touch=True, is_mobile=True)
    tab.locator(f"{WIDGET} .convnet-playground__pad").scroll_into_view_if_needed()
    box = tab.locator(f"{WIDGET} .convnet-playground__pad").bounding_box()
    scroll = tab.evaluate("() => window.scrollY")
    touch = tab.context.new_cdp_session(tab)
    points = [(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.15 + 0.7 * k / 20)) for k in range(21)]
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for x, y in points[1:]:
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    tab.wait_for_function(f"() => document.querySelector('{WIDGET}').dataset.state === 'ok'")
    assert shown(tab)["source"] == "drawing" and shown(tab)["predicted"] == "1"
    assert tab.evaluate("() => window.scrollY") == scroll, "the stroke scrolled the page"


def test_an_empty_pad_shows_a_hint_and_no_prediction_until_something_is_drawn(open_tab):
    tab = open_tab()
    hint = "Draw a digit in the box, or pick a test digit: the network’s reading appears here."
    assert tab.inner_text(f"{WIDGET} .convnet-playground__verdict") == hint
    assert tab.locator(f"{WIDGET} .convnet-playground__bars").is_hidden()
    assert tab.locator(f"{WIDGET} .convnet-playground__maps").is_hidden()
    assert "predicted" not in shown(tab)
    draw(tab, DIGITS[1])
    assert tab.locator(f"{WIDGET} .convnet-playground__bars").is_visible()
    button(tab, "Clear").click()
    assert shown(tab)["state"] == "empty" and "predicted" not in shown(tab)
    assert tab.inner_text(f"{WIDGET} .convnet-playground__verdict") == hint


def test_test_digits_and_receptive_fields_work_from_the_keyboard_alone(open_tab):
    tab = open_tab()
    tab.focus(f"{WIDGET} button >> nth=0")
    for _ in range(2):
        tab.keyboard.press("Tab")
    assert tab.evaluate("() => document.activeElement.textContent") == "Next test digit ▶"
    tab.keyboard.press("Enter")
    state, digits = shown(tab), manifest()["digits"]
    assert state["source"] == f"test:{digits['test_indices'][0]}"
    assert int(state["predicted"]) == digits["predicted"][0]
    image = page_input(tab)
    assert np.abs(page_probabilities(tab) - keras_probabilities(image)).max() <= PROBABILITY_TOLERANCE
    fields = keras_receptive_fields()
    for index, (size, jump) in enumerate(fields):
        for _ in range(8):  # from the last button, the maps are the next stops
            tab.keyboard.press("Tab")
            label = tab.evaluate("() => document.activeElement.getAttribute('aria-label') || ''")
            assert tab.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none", label
            if "feature maps" in label:
                break
        assert label.startswith(("Conv2D", "MaxPooling2D")) and "feature maps" in label, label
        # The first key selects unit (0, 0) of the first map; then right, down, and two maps on and one back.
        for key in ("ArrowRight", "ArrowRight", "ArrowDown", "PageDown", "PageDown", "PageUp"):
            tab.keyboard.press(key)
        state = shown(tab)
        assert (state["channel"], state["row"], state["column"]) == ("1", "1", "1"), state
        assert (int(state["fieldSize"]), int(state["fieldTop"]), int(state["fieldLeft"])) == (size, jump, jump)
        assert f"({size}×{size} pixels)" in tab.inner_text(f"{WIDGET} .convnet-playground__unit")


def test_clicking_a_unit_of_every_layer_marks_the_receptive_field_the_chapters_compute(open_tab):
    tab = open_tab()
    button(tab, "Next test digit ▶").click()
    maps = tab.locator(f"{WIDGET} .convnet-playground__map")
    fields = keras_receptive_fields()
    assert maps.count() == len(fields)
    for index, (size, jump) in enumerate(fields):
        click_unit(tab, index, 1, 1)
        state = shown(tab)
        assert (state["channel"], state["row"], state["column"]) == ("0", "1", "1")
        assert (int(state["fieldSize"]), int(state["fieldTop"]), int(state["fieldLeft"])) == (size, jump, jump)
        rect = tab.locator(f"{WIDGET} .convnet-playground__field")
        assert [int(rect.get_attribute(a)) for a in ("x", "y", "width", "height")] == [jump, jump, size, size]


def test_a_digit_it_misreads_is_one_the_network_gets_wrong(open_tab):
    tab = open_tab()
    button(tab, "A digit it misreads").click()
    index = int(shown(tab)["source"].split(":")[1])
    digits = manifest()["digits"]
    position = digits["test_indices"].index(index)
    assert digits["labels"][position] != digits["predicted"][position] == int(shown(tab)["predicted"])
    assert "The network misreads it." in tab.inner_text(f"{WIDGET} .convnet-playground__source")


@pytest.mark.parametrize("damage, message", [
    ("missing", "The network’s weights file could not be loaded: the server answered 404"),
    ("truncated", "The weights file has 416,000 bytes where the manifest says"),
    ("changed", "The weights file fails its SHA-256 check"),
])
def test_a_damaged_weights_file_gets_a_clear_message_never_a_prediction(open_tab, damage, message):
    data = (ROOT / "snaps" / "convnet.weights.bin").read_bytes()
    bodies = {"truncated": data[:416_000], "changed": data[:2000] + bytes([data[2000] ^ 1]) + data[2001:]}

    def damaged(route):
        if damage == "missing":
            route.fulfill(status=404, body="not found")
        else:
            route.fulfill(status=200, body=bodies[damage], content_type="application/octet-stream")

    allow = ("Failed to load resource: the server responded with a status of 404",) if damage == "missing" else ()
    tab = open_tab(state="error", routes={"**/snaps/convnet.weights.bin": damaged}, allow=allow)
    alert = tab.inner_text(f"{WIDGET} [role=alert]")
    assert alert.startswith("The playground cannot run: ") and message.replace("’", "'") in alert.replace("’", "'"), alert
    assert tab.locator(f"{WIDGET} canvas, {WIDGET} .convnet-playground__bars").count() == 0


def build_instant_site(site: Path, base: str) -> None:
    """Build the site into `site` with Material's instant navigation on: mkdocs.yml with one feature more, and
    the address it is served at as site_url (Material navigates instantly only between the sitemap's pages)."""
    config = CONFIG.read_text(encoding="utf-8").replace("  features:\n", "  features:\n    - navigation.instant\n", 1)
    assert "navigation.instant" in config
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SITE_URL=base)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "-", "-d", str(site)], input=config,
                            cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_playground_mounts_after_materials_instant_navigation(open_tab, tmp_path):
    with serve(tmp_path, site_url_path()) as base:
        build_instant_site(tmp_path, base)
        tab = open_tab(base, state=None)
        tab.wait_for_load_state("networkidle")  # the sitemap, which instant navigation reads first
        tab.evaluate("() => { window.__sameDocument = true; }")
        tab.locator("a.md-nav__link[href$='playground/']").first.click()
        tab.wait_for_selector(f"{WIDGET}[data-state=empty]")
        assert tab.evaluate("() => window.__sameDocument === true"), "the page was reloaded, not swapped in"
        draw(tab, DIGITS[7])
        assert shown(tab)["predicted"] == "7"
        tab.locator("a.md-nav__link[href$='explorer/']").first.click()
        tab.wait_for_selector(".conv-explorer[data-state=ok]")
        tab.go_back()
        tab.wait_for_selector(f"{WIDGET}[data-state=empty]")
        button(tab, "Next test digit ▶").click()
        assert shown(tab)["state"] == "ok" and tab.evaluate("() => window.__sameDocument === true")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_drawn_digit_in_both_schemes_on_desktop_and_phone_fits_and_passes_axe(open_tab, scheme, viewport):
    tab = open_tab(color_scheme=scheme, viewport=PHONE if viewport == "phone" else DESKTOP)
    draw(tab, DIGITS[7])
    click_unit(tab, 2, 1, 1)
    assert "fieldSize" in shown(tab)
    assert overflow(tab) <= 0, "the playground makes the page scroll sideways"
    ink = tab.evaluate(f"""() => {{ const c = document.querySelector('{WIDGET} .convnet-playground__pad').getContext('2d');
      const d = c.getImageData(0, 0, 280, 280).data; for (let i = 3; i < d.length; i += 4) if (d[i] === 255) return [d[i-3], d[i-2], d[i-1]]; }}""")
    assert (sum(ink) > 600) == (scheme == "dark"), f"ink {ink} does not suit the {scheme} scheme"
    assert not (serious := serious_violations(tab, WIDGET)), serious
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The widget is taller than the window: hide Material's sticky header, which would cover part of it.
    tab.locator(WIDGET).screenshot(path=str(SHOTS / f"drawn-7-{scheme}-{viewport}.png"), style=".md-header { visibility: hidden }")


def test_switching_the_color_scheme_recolors_the_drawing_and_the_maps(open_tab):
    tab = open_tab()
    draw(tab, DIGITS[0])
    runs = int(shown(tab)["runs"])

    def ink() -> int:
        """The red channel of the first well-inked pixel of the network's input as shown."""
        return tab.evaluate(f"""() => {{ const d = document.querySelector('{WIDGET} .convnet-playground__input')
          .getContext('2d').getImageData(0, 0, 28, 28).data; for (let i = 3; i < d.length; i += 4) if (d[i] > 200) return d[i-3]; }}""")

    before = ink()
    assert toggle_palette(tab) == "slate"
    tab.wait_for_function(f"() => Number(document.querySelector('{WIDGET}').dataset.runs) > {runs}")
    assert ink() != before and shown(tab)["predicted"] == "0"


def test_speed_report_forward_pass_and_frames_while_drawing(open_tab, site_url):
    """Measured and reported, not asserted: one forward pass on published weights, and a long stroke."""
    tab = open_tab()
    report["forward"] = tab.evaluate(SPEED_JS, [urljoin(site_url, "javascripts/convnet.mjs"), urljoin(site_url, "snaps/convnet.json")])
    tab.evaluate(FRAMES_JS)
    spiral = [(140 + r * np.cos(t), 140 + r * np.sin(t)) for t, r in zip(np.linspace(0, 6 * np.pi, 60), np.linspace(10, 110, 60))]
    draw(tab, [spiral], steps=4)
    frames = tab.evaluate("() => { window.__frames.running = false; return window.__frames; }")
    gaps = frames["gaps"][1:]
    report["drawing"] = {"frames": len(gaps), "longest_frame_ms": max(gaps), "median_frame_ms": float(np.median(gaps)),
                         "long_tasks": frames["longTasks"], "network_runs": int(shown(tab)["runs"]),
                         "mouse_moves": 4 * (len(spiral) - 1)}
    assert report["forward"]["runs"] == 200 and report["drawing"]["network_runs"] > 1



# --- The arithmetic panel: the numbers the page shows for a unit, against Keras's weights and outputs ------------

# The panel's numbers as the page shows them (each number's full value is in its data-value), and its sentence.
PANEL_JS = """(root) => {
  const panel = root.querySelector('.convnet-playground__panel');
  const value = (el) => Number(el.dataset.value);
  const grid = (scope, name) => { const t = scope.querySelector(`[data-grid=${name}]`); return t && [...t.querySelectorAll('td')]
    .map((td) => td.dataset.value === undefined ? null : value(td)); };
  const keyed = {};
  panel.querySelectorAll('[data-key]').forEach((el) => { keyed[el.dataset.key] = value(el); });
  return {
    line: panel.querySelector('.convnet-playground__panel-line').textContent,
    drawn: [...panel.querySelectorAll('.convnet-playground__product')].map((p) => ({ channel: Number(p.dataset.channel),
      patch: grid(p, 'patch'), kernel: grid(p, 'kernel'), products: grid(p, 'products') })),
    listed: [...panel.querySelectorAll('.convnet-playground__list li')].map((li) => [Number(li.dataset.channel),
      value(li.querySelector('[data-value]'))]),
    window: grid(panel, 'window'), marked: [...panel.querySelectorAll('.convnet-playground__max')].map(value),
    terms: [...panel.querySelectorAll('.convnet-playground__terms tr[data-index]')].map((tr) => [Number(tr.dataset.index),
      ...[...tr.querySelectorAll('td')].map(value)]),
    logits: grid(panel, 'logits'), ...keyed, layer: Number(root.dataset.panelLayer),
  };
}"""

# describeArithmetic's sentence for a unit of the page's network and input, from the module itself on the live page.
SENTENCE_JS = """async ([url, index, unit, label]) => {
  const m = await import(url);
  const root = document.querySelector('.convnet-playground');
  return m.describeArithmetic(m.unitArithmetic(root.convnetNet, root.convnetInput, root.convnetOutputs, index, unit), label);
}"""

# The time from a selection (a key on a focused map, or a click on a class) to the panel laid out, for each kind of
# unit: the median and the slowest of `runs` selections, after a warm-up.
PANEL_SPEED_JS = """async (runs) => {
  const root = document.querySelector('.convnet-playground');
  const maps = [...root.querySelectorAll('.convnet-playground__map')];
  const panel = root.querySelector('.convnet-playground__panel');
  const timed = (select) => { const start = performance.now(); select(); void panel.offsetHeight; return performance.now() - start; };
  const kinds = { 'Conv2D 1': () => maps[0], 'MaxPooling2D 1': () => maps[1], 'Conv2D 3': () => maps[4] };
  const result = {};
  for (const [name, map] of Object.entries(kinds)) {
    map().dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', bubbles: true }));
    const times = [];
    for (let i = 0; i < runs + 5; i++) {
      const key = i % 2 ? 'PageDown' : 'ArrowRight';
      times.push(timed(() => map().dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))));
    }
    const kept = times.slice(5).sort((a, b) => a - b);
    result[name] = { median_ms: kept[Math.floor(kept.length / 2)], max_ms: kept.at(-1), runs: kept.length };
  }
  const classes = [...root.querySelectorAll('.convnet-playground__class')];
  const times = [];
  for (let i = 0; i < runs + 5; i++) times.push(timed(() => classes[i % 10].click()));
  const kept = times.slice(5).sort((a, b) => a - b);
  result['Dense class'] = { median_ms: kept[Math.floor(kept.length / 2)], max_ms: kept.at(-1), runs: kept.length };
  result.panel_ms_attribute = Number(root.dataset.panelMs);
  return result;
}"""


# For a screenshot: the whole panel, not only the part a wide window keeps in view beside the maps.
WHOLE_PANEL = ".md-header { visibility: hidden } .convnet-playground__panel { position: static !important; max-height: none !important }"


def panel(tab: Page) -> dict:
    """What the panel shows now (see PANEL_JS)."""
    return tab.eval_on_selector(WIDGET, PANEL_JS)


def sentence(tab: Page, site_url: str, index: int, unit: dict, label: str) -> str:
    """describeArithmetic's sentence for `unit` of layer `index`, computed on the page by the module itself."""
    return tab.evaluate(SENTENCE_JS, [urljoin(site_url, "javascripts/unit-arithmetic.mjs"), index, unit, label])


def keras_layer_inputs(model, image: np.ndarray) -> list[np.ndarray]:
    """Each layer's input for one image as Keras computes it (the image for the first layer), then the last output."""
    outputs = layer_outputs(model, image.reshape(1, 28, 28, 1))
    return [image.reshape(28, 28, 1)] + [output[0] for output in outputs]


def select_with_keys(tab: Page, map_index: int, channel: int, row: int, column: int) -> None:
    """Select a unit of the map_index-th layer shown from the keyboard: Home selects (0, 0) of map 1, then move."""
    tab.locator(f"{WIDGET} .convnet-playground__map").nth(map_index).focus()
    for key in ["Home"] + ["PageDown"] * channel + ["ArrowDown"] * row + ["ArrowRight"] * column:
        tab.keyboard.press(key)


def assert_close(shown, expected, what: str, tolerance: float = 1e-5) -> None:
    """The panel's numbers within `tolerance` of Keras's; the largest difference goes into the report."""
    difference = float(np.abs(np.asarray(shown, "float64") - np.asarray(expected, "float64")).max())
    worst = report.setdefault("panel_vs_keras", {})
    worst[what] = max(worst.get(what, 0.0), difference)
    assert difference <= tolerance, f"{what}: the panel differs from Keras by {difference:g}"


def with_test_digit(open_tab, **options) -> tuple[Page, list[np.ndarray]]:
    """The playground showing the first test digit, and each layer's input for it as Keras computes it."""
    tab = open_tab(**options)
    button(tab, "Next test digit ▶").click()
    return tab, keras_layer_inputs(keras_model(), page_input(tab))


def test_a_first_layer_unit_shows_its_patch_kernel_products_and_sums_as_keras_computes_them(open_tab, site_url):
    tab, inputs = with_test_digit(open_tab)
    kernel, bias = model_layers(keras_model())[0].get_weights()
    row, column, channel = 10, 12, 0
    click_unit(tab, 0, row, column)
    shown_panel = panel(tab)
    patch, weights = inputs[0][row:row + 3, column:column + 3, 0], kernel[:, :, 0, channel]
    [drawn] = shown_panel["drawn"]
    assert_close(drawn["patch"], patch.ravel(), "Conv2D 1 patch")
    assert_close(drawn["kernel"], weights.ravel(), "Conv2D 1 kernel")
    assert_close(drawn["products"], (patch * weights).ravel(), "Conv2D 1 products")
    assert_close(shown_panel["total"], (patch * weights).sum(), "Conv2D 1 sum")
    assert_close(shown_panel["bias"], bias[channel], "Conv2D 1 bias")
    assert_close(shown_panel["pre"], (patch * weights).sum() + bias[channel], "Conv2D 1 before ReLU")
    assert_close(shown_panel["value"], inputs[1][row, column, channel], "Conv2D 1 after ReLU")
    unit = {"channel": channel, "row": row, "column": column}
    assert shown_panel["line"] == sentence(tab, site_url, 0, unit, "Conv2D 1")
    assert shown_panel["line"].startswith(f"Unit (row {row}, column {column}) of map {channel + 1} in layer Conv2D 1: sum ")
    assert tab.get_attribute(f"{WIDGET} .convnet-playground__panel-line", "aria-live") == "polite"


def test_a_third_layer_unit_selected_from_the_keyboard_shows_every_input_channels_contribution(open_tab, site_url):
    tab, inputs = with_test_digit(open_tab)
    kernel, bias = model_layers(keras_model())[4].get_weights()
    row, column, channel = 1, 2, 5
    select_with_keys(tab, 4, channel, row, column)
    assert (shown(tab)["map"], shown(tab)["channel"], shown(tab)["row"], shown(tab)["column"]) == ("4", "5", "1", "2")
    shown_panel = panel(tab)
    patches = inputs[4][row:row + 3, column:column + 3, :]  # (3, 3, 64): the second pooling layer's output
    sums = np.einsum("uvc,uvc->c", patches, kernel[:, :, :, channel])
    order = np.argsort(-np.abs(sums), kind="stable")
    drawn, listed = shown_panel["drawn"], shown_panel["listed"]
    assert len(drawn) == 3 and len(drawn) + len(listed) == 64
    shown_channels = [d["channel"] for d in drawn] + [c for c, _ in listed]
    assert sorted(shown_channels) == list(range(64))
    shown_sums = np.array([float(np.sum(d["products"])) for d in drawn] + [s for _, s in listed])
    assert_close(shown_sums, sums[shown_channels], "Conv2D 3 contributions")
    assert np.all(np.diff(np.abs(sums[shown_channels])) <= 1e-6), "contributions are not sorted by size"
    assert_close(np.abs(sums[shown_channels[:3]]), np.abs(sums[order[:3]]), "Conv2D 3 largest contributions")
    for d in drawn:
        assert_close(d["patch"], patches[:, :, d["channel"]].ravel(), "Conv2D 3 patch")
        assert_close(d["kernel"], kernel[:, :, d["channel"], channel].ravel(), "Conv2D 3 kernel")
        assert_close(d["products"], (patches[:, :, d["channel"]] * kernel[:, :, d["channel"], channel]).ravel(), "Conv2D 3 products")
    assert_close(shown_panel["total"], sums.sum(), "Conv2D 3 sum")
    assert_close(shown_panel["pre"], sums.sum() + bias[channel], "Conv2D 3 before ReLU")
    assert_close(shown_panel["value"], inputs[5][row, column, channel], "Conv2D 3 after ReLU")
    assert "multi-channel" in tab.inner_text(f"{WIDGET} .convnet-playground__panel")
    tab.keyboard.press("Tab")  # from the last layer's maps, the next stop is the panel, then its list
    assert tab.evaluate("() => document.activeElement.classList.contains('convnet-playground__panel')")
    tab.keyboard.press("Tab")
    assert tab.evaluate("() => document.activeElement.classList.contains('convnet-playground__list')")
    unit = {"channel": channel, "row": row, "column": column}
    assert shown_panel["line"] == sentence(tab, site_url, 4, unit, "Conv2D 3")


def test_a_pooling_unit_shows_its_window_with_the_maximum_marked_where_keras_finds_it(open_tab, site_url):
    tab, inputs = with_test_digit(open_tab)
    channel = 0
    row, column = (int(i) for i in np.unravel_index(inputs[2][:, :, channel].argmax(), inputs[2].shape[:2]))  # its brightest
    click_unit(tab, 1, row, column)
    shown_panel = panel(tab)
    window = inputs[1][2 * row:2 * row + 2, 2 * column:2 * column + 2, channel]
    assert_close(shown_panel["window"], window.ravel(), "MaxPooling2D 1 window")
    assert_close(shown_panel["marked"], [window.max()], "MaxPooling2D 1 maximum")
    assert_close(shown_panel["value"], inputs[2][row, column, channel], "MaxPooling2D 1 value")
    at_row, at_column = np.unravel_index(window.argmax(), window.shape)
    assert f"from row {2 * row + at_row}, column {2 * column + at_column} of layer Conv2D 1" in \
        tab.inner_text(f"{WIDGET} .convnet-playground__panel")
    assert shown_panel["line"] == sentence(tab, site_url, 1, {"channel": channel, "row": row, "column": column}, "MaxPooling2D 1")


def test_a_class_picked_among_the_probabilities_shows_its_logit_terms_groups_and_softmax(open_tab, site_url):
    tab, inputs = with_test_digit(open_tab)
    kernel, bias = model_layers(keras_model())[-1].get_weights()
    flat, probabilities = inputs[-2], inputs[-1]
    second = int(np.argsort(probabilities)[-2])
    for digit in (int(probabilities.argmax()), second):
        tab.locator(f"{WIDGET} .convnet-playground__class").nth(digit).click()
        assert shown(tab)["selectedClass"] == str(digit)
        shown_panel = panel(tab)
        products = flat * kernel[:, digit]
        order = np.argsort(-np.abs(products), kind="stable")[:len(shown_panel["terms"])]
        terms = np.array(shown_panel["terms"])
        assert_close(np.abs(terms[:, 3]), np.abs(products[order]), "Dense largest products")
        assert_close(terms[:, 1], flat[terms[:, 0].astype(int)], "Dense inputs")
        assert_close(terms[:, 2], kernel[terms[:, 0].astype(int), digit], "Dense weights")
        groups = products.reshape(3, 3, 128).sum(axis=(0, 1))  # by the third Conv2D layer's 128 maps
        listed = dict(shown_panel["listed"])
        assert sorted(listed) == list(range(128))
        assert_close([listed[c] for c in range(128)], groups, "Dense sums by map")
        logits = flat.astype("float64") @ kernel.astype("float64") + bias  # summed in float64, as the panel sums
        assert_close(shown_panel["pre"], logits[digit], "Dense logit")
        assert_close(shown_panel["logits"], logits, "Dense logits")
        assert_close(shown_panel["value"], probabilities[digit], "Dense softmax")
        assert shown_panel["line"] == sentence(tab, site_url, 6, {"channel": digit}, "Dense")
    # From the keyboard: the bars are one stop for Tab, and the arrow keys move between classes.
    tab.locator(f"{WIDGET} .convnet-playground__class").nth(second).focus()
    tab.keyboard.press("ArrowDown")
    assert shown(tab)["selectedClass"] == str((second + 1) % 10)
    assert tab.locator(f"{WIDGET} .convnet-playground__class[tabindex='0']").count() == 1


def test_panel_report_update_time_of_each_kind_of_unit(open_tab):
    """Measured and reported, not asserted: from a selection to the panel laid out."""
    tab = open_tab()
    button(tab, "Next test digit ▶").click()
    report["panel"] = tab.evaluate(PANEL_SPEED_JS, 40)
    assert all(report["panel"][kind]["runs"] == 40 for kind in ("Conv2D 1", "Conv2D 3", "Dense class"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_panel_in_both_schemes_on_desktop_and_phone_fits_and_passes_axe(open_tab, scheme, viewport):
    tab, _ = with_test_digit(open_tab, color_scheme=scheme, viewport=PHONE if viewport == "phone" else DESKTOP)
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel_box = tab.locator(f"{WIDGET} .convnet-playground__panel")
    for name, select in [("first-layer", lambda: click_unit(tab, 0, 10, 12)), ("pooling", lambda: click_unit(tab, 1, 3, 5)),
                         ("third-layer", lambda: select_with_keys(tab, 4, 5, 1, 2)),
                         ("class", lambda: tab.locator(f"{WIDGET} .convnet-playground__class").nth(3).click())]:
        select()
        assert overflow(tab) <= 0, f"the {name} panel makes the page scroll sideways"
        assert not (serious := serious_violations(tab, WIDGET)), serious
        panel_box.screenshot(path=str(SHOTS / f"panel-{name}-{scheme}-{viewport}.png"), style=WHOLE_PANEL)
    if viewport == "desktop":
        select_with_keys(tab, 4, 5, 1, 2)
        tab.locator(f"{WIDGET} .convnet-playground__maps").screenshot(path=str(SHOTS / f"maps-and-panel-{scheme}.png"),
                                                                      style=WHOLE_PANEL)


# --- The reader's own model: bad files refused in a sentence, exported architectures run as Keras runs them -------

# Every read of a File or Blob the page makes, by size: a file too large must be refused without being read.
WATCH_READS_JS = """() => {
  window.__reads = [];
  for (const name of ['arrayBuffer', 'text', 'stream', 'slice', 'bytes']) {
    const original = Blob.prototype[name];
    if (!original) continue;
    Blob.prototype[name] = function (...args) { window.__reads.push([name, this.size]); return original.apply(this, args); };
  }
  for (const name of ['readAsArrayBuffer', 'readAsText', 'readAsDataURL', 'readAsBinaryString']) {
    const original = FileReader.prototype[name];
    FileReader.prototype[name] = function (blob, ...args) { window.__reads.push([name, blob.size]); return original.call(this, blob, ...args); };
  }
}"""

# Drop files on the loader as a reader's drag and drop does: [[url, name], ...] fetched here, dropped as Files.
DROP_JS = """async (files) => {
  const transfer = new DataTransfer();
  for (const [url, name] of files) transfer.items.add(new File([await (await fetch(url)).blob()], name));
  document.querySelector('.convnet-playground__drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


WEIGHTS = ROOT / "snaps" / "convnet.weights.bin"
MAPPED = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D")  # the layers the page draws as maps
LOADS = "loads"
ERRORS = "loadErrors"


def load_files(tab: Page, paths: list[Path], outcome: str = LOADS) -> None:
    """Pick `paths` with the page's file input, and wait until the page has loaded them or refused them."""
    before = int(shown(tab).get(outcome, 0))
    tab.locator(f"{WIDGET} input[type=file]").set_input_files([str(path) for path in paths])
    tab.wait_for_function(f"() => Number(document.querySelector('{WIDGET}').dataset.{outcome} || 0) > {before}")


def write_export(folder: Path, manifest: dict | str | bytes, weights: bytes | None, rehash: bool = True) -> list[Path]:
    """An export in `folder`: the manifest (edited, or any text) and the weights; with `rehash`, a dict manifest gets
    the weights' true size and SHA-256, so that only the edit is wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    if weights is not None:
        paths.append(folder / "convnet.weights.bin")
        paths[-1].write_bytes(weights)
    if isinstance(manifest, dict):
        if rehash and weights is not None:
            manifest["weights"] = {**manifest["weights"], "bytes": len(weights), "sha256": hashlib.sha256(weights).hexdigest()}
        manifest = json.dumps(manifest)
    if manifest is not None:
        paths.append(folder / "convnet.json")
        (paths[-1].write_bytes if isinstance(manifest, bytes) else paths[-1].write_text)(manifest)
    return paths


def with_value(data: bytes, offset: int, value: float) -> bytes:
    """The weights with the float32 at index `offset` replaced."""
    array = np.frombuffer(data, "<f4").copy()
    array[offset] = value
    return array.tobytes()


def published_manifest() -> dict:
    """The book's manifest without its test digits, as a reader's own export has none."""
    return {key: value for key, value in manifest().items() if key != "digits"}


def edited_layer(edit: Callable[[list[dict]], None]) -> dict:
    """The book's manifest with its layers changed by `edit`."""
    edited = published_manifest()
    edit(edited["layers"])
    return edited


def bad_exports(folder: Path) -> dict[str, tuple[list[Path], str]]:
    """Each bad export of the issue: its files, and a phrase the page's sentence about it must hold."""
    data = WEIGHTS.read_bytes()
    layers = manifest()["layers"]
    conv1_kernel = layers[2]["weights"][0]["offset"] + 100
    dense_kernel = layers[6]["weights"][0]["offset"] + 7
    huge = folder / "huge" / "convnet.weights.bin"
    huge.parent.mkdir()
    huge.touch()
    os.truncate(huge, 600 * 1024 ** 2)  # sparse: 600 MB that take no disk
    (folder / "huge" / "convnet.json").write_text(json.dumps(manifest()))
    edited = data[:2000] + bytes([data[2000] ^ 1]) + data[2001:]
    cases = {
        "manifest without weights": (write_export(folder / "a", published_manifest(), None), "The weights file (a .bin file) is missing"),
        "weights without manifest": (write_export(folder / "b", None, data), "The manifest (a .json file) is missing"),
        "truncated weights": (write_export(folder / "c", published_manifest(), data[:-400], rehash=False),
                              f"The weights file has {len(data) - 400:,} bytes where the manifest says {len(data):,}"),
        "edited byte": (write_export(folder / "d", published_manifest(), edited, rehash=False), "fails its SHA-256 check"),
        "SHA-256 mismatch": (write_export(folder / "e", {**published_manifest(), "weights": {**manifest()["weights"],
                                                                                          "sha256": "0" * 64}}, data, rehash=False),
                             "fails its SHA-256 check"),
        "unknown layer type": (write_export(folder / "f", edited_layer(lambda ls: ls[1].update(type="FractionalMaxPooling2D")), data),
                               "cannot run the network’s FractionalMaxPooling2D layer max_pooling2d"),
        "shapes that do not chain": (write_export(folder / "g", edited_layer(lambda ls: ls[1].update(output_shape=[12, 12, 32])), data),
                                     "do not fit together at MaxPooling2D layer max_pooling2d"),
        "NaN weights": (write_export(folder / "h", published_manifest(), with_value(data, conv1_kernel, np.nan)),
                        "The kernel of Conv2D layer conv2d_1 holds NaN or infinite values"),
        "infinite weights": (write_export(folder / "i", published_manifest(), with_value(data, dense_kernel, np.inf)),
                             "The kernel of Dense layer dense_2 holds NaN or infinite values"),
        "manifest not JSON": (write_export(folder / "j", '{"format": "convnets-browser-weights/1", "layers": [', data),
                              "The manifest convnet.json is not valid JSON"),
        "manifest over the size limit": (write_export(folder / "k", {**published_manifest(), "notes": "x" * 1_500_000}, data),
                                         "more than the 1 MB a manifest can be"),
        "weights of several hundred MB": ([huge.parent / "convnet.json", huge], "is 600 MB, more than the 64 MB this page reads"),
        "input not 28×28×1": (write_export(folder / "l", {**published_manifest(), "input_shape": [32, 32, 3]}, data),
                              "runs networks on 28×28×1 digits, and this one takes 32×32×3 inputs"),
        "no ten probabilities": (write_export(folder / "m", edited_layer(lambda ls: ls[-1].update(activation="linear")), data),
                                 "ends in a Dense layer of 10 units with no activation"),
    }
    return cases


BAD_CASES = ["manifest without weights", "weights without manifest", "truncated weights", "edited byte", "SHA-256 mismatch",
             "unknown layer type", "shapes that do not chain", "NaN weights", "infinite weights", "manifest not JSON",
             "manifest over the size limit", "weights of several hundred MB", "input not 28×28×1", "no ten probabilities"]


def test_every_bad_export_gets_one_sentence_and_the_books_model_stays(open_tab, tmp_path):
    cases = bad_exports(tmp_path)
    assert sorted(cases) == sorted(BAD_CASES)
    tab = open_tab()
    button(tab, "Next test digit ▶").click()
    before = {key: shown(tab)[key] for key in ("model", "predicted", "probability")}
    layers = tab.inner_text(f"{WIDGET} .convnet-playground__layers")
    tab.evaluate(WATCH_READS_JS)
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    sentences = {}
    for name in BAD_CASES:
        paths, phrase = cases[name]
        load_files(tab, paths, ERRORS)
        alert = tab.inner_text(f"{WIDGET} .convnet-playground__error")
        sentences[name] = alert
        assert phrase in alert, f"{name}: {alert!r}"
        assert alert.count(". ") == 0 and alert.endswith("."), f"{name}: not one sentence: {alert!r}"
        assert tab.get_attribute(f"{WIDGET} .convnet-playground__error", "role") == "alert"
        button(tab, "Next test digit ▶").click()
        button(tab, "◀ Previous test digit").click()
        assert {key: shown(tab)[key] for key in before} == before, f"{name}: the book's model did not stay"
        assert tab.inner_text(f"{WIDGET} .convnet-playground__layers") == layers
    reads = tab.evaluate("() => window.__reads")
    assert reads and max(size for _, size in reads) < 64 * 1024 ** 2, f"a file over the limit was read: {reads}"
    assert not requests, f"the page sent requests while reading the reader's files: {requests}"
    report["bad_files"] = sentences


@pytest.fixture(scope="module")
def architectures() -> dict[str, Path]:
    """The exported architectures of playground_fixture (name → manifest), with their Keras files beside."""
    return session_architectures()


def export_files(manifest_path: Path) -> list[Path]:
    """An export's two files: the manifest and the weights file it names."""
    return [manifest_path, manifest_path.with_name(json.loads(manifest_path.read_text())["weights"]["file"])]


def assert_page_matches_keras(tab: Page, model, digits: int, what: str) -> None:
    """On `digits` test digits, every layer's output on the page within LAYER_TOLERANCE of Keras's, the probabilities
    within PROBABILITY_TOLERANCE; the largest differences go into the report."""
    worst = np.zeros(len(model_layers(model)))
    for _ in range(digits):
        button(tab, "Next test digit ▶").click()
        page_outputs = tab.evaluate(f"() => document.querySelector('{WIDGET}').convnetOutputs.map((o) => Array.from(o.data))")
        keras_outputs = layer_outputs(model, page_input(tab).reshape(1, 28, 28, 1))
        for i, (ours, theirs) in enumerate(zip(page_outputs, keras_outputs, strict=True)):
            worst[i] = max(worst[i], np.abs(np.array(ours) - theirs.ravel()).max())
    report.setdefault("architectures", {}).setdefault(what, {})["largest_difference_by_layer"] = worst.tolist()
    assert worst[:-1].max() <= LAYER_TOLERANCE and worst[-1] <= PROBABILITY_TOLERANCE, f"{what}: {worst}"


def test_a_same_padded_stride_2_model_loads_runs_as_keras_and_back_restores_the_books(open_tab, architectures):
    import keras

    path = architectures["same-stride2"]
    model = keras.saving.load_model(path.with_suffix(".keras"))
    tab = open_tab()
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    load_files(tab, export_files(path))
    assert not requests, f"the page sent requests while reading the reader's files: {requests}"
    assert shown(tab)["model"] == "own" and tab.inner_text(f"{WIDGET} .convnet-playground__error") == ""
    captions = tab.locator(f"{WIDGET} .convnet-playground__layer figcaption").all_inner_texts()
    mapped = [layer for layer in json.loads(path.read_text())["layers"] if layer["type"] in MAPPED]
    assert len(captions) == len(mapped) and captions[1].startswith("Conv2D 2: 32 filters of 3×3, stride 2, “same” padding, ReLU. Output 14×14×32")
    assert "Dropout: passes its input on unchanged" in tab.inner_text(f"{WIDGET} .convnet-playground__layers")
    assert_page_matches_keras(tab, model, 3, "same-stride2")
    # The stride-2 layer's last unit: its window hangs one row and one column over the padding after the map.
    click_unit(tab, 1, 13, 13)
    first = layer_outputs(model, page_input(tab).reshape(1, 28, 28, 1))[0][0]  # (28, 28, 16)
    padded = np.pad(first, ((0, 1), (0, 1), (0, 0)))
    kernel, bias = model_layers(model)[1].get_weights()
    shown_panel = panel(tab)
    assert_close(shown_panel["pre"], np.sum(padded[26:29, 26:29, :] * kernel[:, :, :, 0]) + bias[0], "same-stride2 Conv2D 2 before ReLU")
    # Three input channels drawn, each patch with 5 of its 9 cells on the padding (the last row and column).
    assert tab.locator(f"{WIDGET} .convnet-playground__panel td.convnet-playground__padding").count() == 3 * 5
    assert (shown(tab)["fieldTop"], shown(tab)["fieldSize"]) == ("25", "5")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.locator(WIDGET).screenshot(path=str(SHOTS / "loaded-same-stride2.png"), style=".md-header { visibility: hidden }")
    button(tab, "Back to the book’s model").click()
    state = shown(tab)
    position = manifest()["digits"]["test_indices"].index(int(state["source"].split(":")[1]))
    assert state["model"] == "book" and int(state["predicted"]) == manifest()["digits"]["predicted"][position]
    assert tab.locator(f"{WIDGET} .convnet-playground__map").count() == 5
    assert tab.locator(f"{WIDGET} .convnet-playground__back").is_hidden()


def test_a_global_average_model_dropped_on_the_page_runs_as_keras_and_its_units_show_their_means(open_tab, architectures):
    import keras

    path = architectures["global-average"]
    model = keras.saving.load_model(path.with_suffix(".keras"))
    folder = path.parent
    tab = open_tab(routes={"**/_own/**": lambda route: route.fulfill(path=str(folder / route.request.url.split("/_own/", 1)[1]))})
    before = int(shown(tab).get(LOADS, 0))
    tab.evaluate(DROP_JS, [[f"../_own/{p.name}", p.name] for p in export_files(path)])
    tab.wait_for_function(f"() => Number(document.querySelector('{WIDGET}').dataset.{LOADS} || 0) > {before}")
    captions = tab.locator(f"{WIDGET} .convnet-playground__layer figcaption").all_inner_texts()
    assert [caption.split(":")[0] for caption in captions] == [
        "Conv2D 1", "MaxPooling2D", "Conv2D 2", "AveragePooling2D", "Conv2D 3", "GlobalAveragePooling2D"]
    assert captions[3].startswith("AveragePooling2D: means of 2×2 windows, stride 2, “same” padding. Output 6×6×32")
    assert_page_matches_keras(tab, model, 3, "global-average")
    outputs = layer_outputs(model, page_input(tab).reshape(1, 28, 28, 1))
    click_unit(tab, 5, 0, 0)  # the first unit of the global average: the mean of the third Conv2D layer's first map
    assert_close(panel(tab)["value"], outputs[5][0, 0], "global-average GlobalAveragePooling2D mean")
    assert_close(panel(tab)["total"], outputs[4][0, :, :, 0].sum(), "global-average GlobalAveragePooling2D sum", 1e-4)
    click_unit(tab, 3, 5, 5)  # the average pooling's last unit: a window of one real value, the rest padding
    assert_close(panel(tab)["value"], outputs[3][0, 5, 5, 0], "global-average AveragePooling2D mean")
    assert tab.locator(f"{WIDGET} .convnet-playground__panel td.convnet-playground__padding").count() == 3


def test_speed_report_forward_pass_of_each_exported_architecture(open_tab, site_url, architectures):
    """Measured and reported, not asserted: a forward pass of each architecture, read from files as the page reads them."""
    folders = {name: path.parent for name, path in architectures.items()}
    tab = open_tab(routes={"**/_own/**": lambda route: route.fulfill(
        path=str(Path(folders[route.request.url.split("/_own/", 1)[1].split("/")[0]]) / route.request.url.rsplit("/", 1)[1]))})
    for name, path in architectures.items():
        files = [[urljoin(site_url, f"_own/{name}/{p.name}"), p.name] for p in export_files(path)]
        timing = tab.evaluate(SPEED_JS, [urljoin(site_url, "javascripts/convnet.mjs"), urljoin(site_url, "snaps/convnet.json"), files])
        report.setdefault("architectures", {}).setdefault(name, {})["forward"] = timing
        assert timing["runs"] == 200
