"""The figures in snaps/: every one the pages show exists in the site's two color schemes (NAME.png for the light
one, NAME-dark.png for the dark one, each shown only in its scheme), and `make figures` (code/make_figures.py)
redraws each."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib import colors, image

from convnets.schemes import SCHEMES, drawing_in, scheme_path
from helpers import ROOT, assert_one_line_error, assert_quiet, run_script, without_frameworks

SNAPS = ROOT / "snaps"
MAX_BYTES = 300 * 1024
ANY_REFERENCE = re.compile(r"\(snaps/[^)\s]*\.png[^)\s]*\)")
# ![alt](snaps/NAME.png#only-light) or ![alt](snaps/NAME-dark.png#only-dark): Material shows each in its scheme only.
REFERENCE = re.compile(r"!\[([^\]]+)\]\(snaps/([\w.-]+?)(-dark)?\.png#only-(light|dark)\)")


def page_images(page) -> list[tuple[str, str, str]]:
    """(alt text, figure name, scheme) for each snaps/ image a page shows."""
    return [(alt, name, "dark" if dark else "light") for alt, name, dark, _ in
            REFERENCE.findall(page.read_text(encoding="utf-8"))]


def referenced_figures() -> dict[str, list[str]]:
    """snaps/ file name -> the docs pages that show it."""
    found: dict[str, list[str]] = {}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for _, name, scheme in page_images(page):
            found.setdefault(f"{name}{'-dark' if scheme == 'dark' else ''}.png", []).append(page.name)
    return found


def figure_names() -> list[str]:
    from make_figures import FIGURES

    return sorted(f"{name}{scheme.suffix}.png" for name in FIGURES for scheme in SCHEMES)


def test_every_figure_reference_names_its_color_scheme():
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert len(ANY_REFERENCE.findall(text)) == len(REFERENCE.findall(text)), \
            f"{page.name}: show figures as ![alt](snaps/NAME.png#only-light) and ![alt](snaps/NAME-dark.png#only-dark)"
        for _, _, dark, fragment in REFERENCE.findall(text):
            assert bool(dark) == (fragment == "dark"), f"{page.name}: -dark.png goes with #only-dark, .png with #only-light"


def test_a_page_that_shows_a_figure_in_one_scheme_shows_it_in_the_other_with_the_same_alt_text():
    for page in sorted((ROOT / "docs").rglob("*.md")):
        images = page_images(page)
        light = [(alt, name) for alt, name, scheme in images if scheme == "light"]
        dark = [(alt, name) for alt, name, scheme in images if scheme == "dark"]
        assert light == dark, f"{page.name}: each figure as a light and a dark image, with the same alt text"


class NeedsTraining(Exception):
    pass


def draw_untrained(folder) -> list[str]:
    """Draw, in this process, every figure that needs no trained model; return their file names."""
    from make_figures import FIGURES, JOBS, Sources

    class Untrained(Sources):
        def trained(self, name: str) -> tuple:
            raise NeedsTraining(name)

    sources, drawn = Untrained(quick=True, mnist=None), []
    for name in FIGURES:
        for scheme in SCHEMES:
            path = scheme_path(folder / f"{name}.png", scheme)
            try:
                with drawing_in(scheme):
                    JOBS[name](sources, path)
            except NeedsTraining:
                break
            drawn.append(path.name)
    return drawn


@pytest.fixture(scope="module")
def quick_figures(tmp_path_factory):
    """Every figure drawn again by `make_figures.py --quick` into a fresh folder, with TensorFlow's noisy path on."""
    folder = tmp_path_factory.mktemp("figures")
    result = run_script("make_figures.py", "--quick", "--output", str(folder), TF_ENABLE_ONEDNN_OPTS="1")
    assert_quiet(result)
    return folder


def test_every_figure_the_pages_show_exists_and_is_drawn_by_make_figures():
    shown = referenced_figures()
    assert shown, "no page shows a figure from snaps/"
    missing = sorted(name for name in shown if not (SNAPS / name).is_file())
    assert not missing, f"pages show figures that snaps/ lacks (run `make figures`): {missing}"
    assert sorted(shown) == figure_names(), "every figure make_figures draws is shown on a page, and only those"


def test_snaps_holds_exactly_the_figures_make_figures_draws():
    assert sorted(path.name for path in SNAPS.glob("*.png")) == figure_names()


@pytest.mark.parametrize("name", figure_names())
def test_committed_figure_is_small_opaque_and_on_its_schemes_background(name):
    path = SNAPS / name
    assert path.stat().st_size < MAX_BYTES, f"{name} is {path.stat().st_size / 1024:.0f} KB"
    pixels = image.imread(path)
    if pixels.shape[-1] == 4:  # an alpha channel: it must be fully opaque, so the page shows no holes
        assert pixels[..., 3].min() == 1.0
    scheme = next(scheme for scheme in reversed(SCHEMES) if path.stem.endswith(scheme.suffix))
    corner = pixels[:3, :3, :3].reshape(-1, 3)
    assert np.abs(corner - colors.to_rgb(scheme.background)).max() < 2 / 255, \
        f"{name}: the figure's background is the {scheme.name} scheme's page background"


def test_make_figures_quick_redraws_every_figure(quick_figures):
    assert sorted(path.name for path in quick_figures.glob("*.png")) == figure_names()
    for path in quick_figures.glob("*.png"):
        assert 0 < path.stat().st_size < MAX_BYTES
        assert image.imread(path).shape[0] > 100


def test_figures_without_trained_weights_are_redrawn_identically(tmp_path):
    drawn = draw_untrained(tmp_path)
    assert {"max_pooling.png", "max_pooling-dark.png"} <= set(drawn) and "feature_maps.png" not in drawn
    stale = []
    for name in drawn:
        committed, fresh = image.imread(SNAPS / name), image.imread(tmp_path / name)
        if committed.shape != fresh.shape or not np.array_equal(committed, fresh):
            stale.append(name)
    assert not stale, f"snaps/ figures that no longer match their code (run `make figures`): {stale}"


def test_unknown_figure_is_a_one_line_error_before_any_framework_loads(tmp_path):
    result = run_script("make_figures.py", "--only", "nope", "--output", str(tmp_path / "never"),
                        **without_frameworks(tmp_path))
    assert "invalid choice: 'nope'" in assert_one_line_error(result)
    assert not (tmp_path / "never").exists()
