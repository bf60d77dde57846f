"""The site's two color schemes (Material's light "default" and dark "slate") that every figure is drawn in,
with matplotlib set up once (no display) and each figure saved as a PNG, atomically."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import cycler  # noqa: E402

from convnets.atomic import atomic_path  # noqa: E402


@dataclass(frozen=True)
class Scheme:
    """The colors of a figure drawn for one of the site's color schemes; data colormaps stay the same."""

    name: str
    suffix: str  # added to the figure's file name: NAME.png, NAME-dark.png
    background: str  # the page's background, Material's --md-default-bg-color
    ink: str  # text, arrows and operators
    faint: str  # secondary text and reference lines
    edge: str  # axes frames and cell borders
    grid: str  # grid lines
    cell: str  # an empty cell of a drawn matrix
    padding: str  # a padded cell
    neutral: str  # a bar or area that is no entry's color
    accents: tuple[str, ...]  # lines and outlines: blue, red, green, orange, purple
    tints: tuple[str, ...]  # cell fills behind text, in the accents' order
    fills: tuple[str, ...]  # stronger fills: blue, orange, green, purple

    def rc(self) -> dict:
        """matplotlib settings that draw every figure's own parts (text, axes, legend) in this scheme."""
        return {
            "figure.facecolor": self.background, "axes.facecolor": self.background,
            "savefig.facecolor": self.background, "text.color": self.ink, "axes.labelcolor": self.ink,
            "axes.titlecolor": self.ink, "axes.edgecolor": self.edge, "xtick.color": self.ink,
            "ytick.color": self.ink, "grid.color": self.grid, "legend.facecolor": self.background,
            "legend.edgecolor": self.edge, "legend.labelcolor": self.ink,
            "axes.axisbelow": True,
            "axes.prop_cycle": cycler(color=[self.accents[i] for i in (0, 3, 2, 1, 4)]),  # matplotlib's order
        }


LIGHT = Scheme(
    name="light", suffix="", background="#ffffff", ink="#222222", faint="#666666", edge="#888888", grid="#e0e0e0",
    cell="#ffffff", padding="#e6e6e6", neutral="#d3d3d3",
    accents=("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"),
    tints=("#c6dbef", "#fcbba1", "#c7e9c0", "#fdd0a2", "#dadaeb"),
    fills=("#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc"),
)
DARK = Scheme(
    name="dark", suffix="-dark", background="#1e2129", ink="#dcdfe5", faint="#a0a6b2", edge="#6b7180",
    grid="#3a3f4b", cell="#272b35", padding="#3b404c", neutral="#4d5361",
    accents=("#4fa3e3", "#f0625d", "#58c458", "#ffa142", "#b794e6"),
    tints=("#1f4266", "#6a2b2b", "#21502c", "#663f12", "#3f3564"),
    fills=("#2f6794", "#94591f", "#317a42", "#5b4f8f"),
)
SCHEMES = (LIGHT, DARK)
_current = [LIGHT]


def scheme() -> Scheme:
    """The color scheme figures are being drawn in (light unless inside `drawing_in`)."""
    return _current[-1]


@contextmanager
def drawing_in(chosen: Scheme) -> Iterator[Scheme]:
    """Draw the figures made inside this block in `chosen`'s colors."""
    _current.append(chosen)
    try:
        with plt.rc_context(chosen.rc()):
            yield chosen
    finally:
        _current.pop()


def scheme_path(path: Path, chosen: Scheme) -> Path:
    """Where a figure drawn in `chosen` goes: snaps/NAME.png for light, snaps/NAME-dark.png for dark."""
    return path.with_name(f"{path.stem}{chosen.suffix}{path.suffix}")


def save_figure(figure: plt.Figure, path: Path, **options) -> None:
    """Write `figure` as a PNG at `path` (savefig's `options`) on the scheme's background, then close it."""
    options.setdefault("facecolor", scheme().background)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", **options)
    plt.close(figure)
