"""Regenerate every figure of the site, as PNG files in snaps/ (or --output DIR), each in the site's two color
schemes: NAME.png for the light one, NAME-dark.png for the dark one; the frame data of every animation,
as snaps/NAME.json (docs/javascripts/animation.mjs plays it, in either scheme); and the trained convnet the
playground page runs, as snaps/convnet.json with its weights and test digits beside it (convnets.export).

The figures that show trained weights use the book's convnet and dense baseline, trained once with the
book's recipe and then reused from the cache in runs/cache. --quick trains them for one epoch on 2,000
images instead, which is enough to check that every figure still draws.

examples:
    python code/make_figures.py                      # every figure, into snaps/
    python code/make_figures.py --only max_pooling   # one figure
    python code/make_figures.py --quick --output /tmp/figures
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

from convnets.cli import OneLineParser, fail, local_mnist_or_fail
from convnets.data import DataError
from convnets.devices import prepare_environment
from convnets.framework_logs import framework_logs
from convnets.paths import LOGS_DIR, SNAPS_DIR
from convnets.schemes import SCHEMES, drawing_in, scheme_path

DIGIT = 1  # the test set's second image, a 2
QUICK = {"limit": 2000, "overrides": {"epochs": 1}}
EDGE = np.array([[-1.0, 0.0, 1.0]] * 3)  # positive where values rise from left to right


class Sources:
    """What the figures are drawn from, each loaded or trained only when a figure first needs it."""

    def __init__(self, quick: bool, mnist: tuple | None) -> None:
        self.changes = QUICK if quick else {}
        self.mnist = mnist
        self.runs: dict[str, tuple] = {}

    @cached_property
    def test_set(self) -> tuple[np.ndarray, np.ndarray]:
        from convnets.data import load_mnist

        return (self.mnist or load_mnist())[1]

    @cached_property
    def digit(self):
        return self.test_set[0][DIGIT]

    def trained(self, name: str) -> tuple:
        """The model `name` fitted with the book's recipe (from the cache, if fitted before), and its record."""
        from convnets.named_runs import trained

        if name not in self.runs:
            self.runs[name] = trained(name, "book", **self.changes)
        return self.runs[name]

    @cached_property
    def convnet(self):
        return self.trained("convnet")[0]

    @cached_property
    def dense(self):
        return self.trained("dense")[0]


def figures() -> ModuleType:
    """convnets.figures, imported when the first figure is drawn: Keras loads after the arguments are checked."""
    from convnets import figures

    return figures


def untrained(name: str):
    """A freshly built model (its architecture is what the figure shows)."""
    from convnets.models import MODELS

    return MODELS[name]()


def toy_image(n: int = 5) -> np.ndarray:
    """An n×n image of small integers with a vertical edge between its third and fourth columns."""
    image = np.random.default_rng(3).integers(0, 3, size=(n, n)).astype(float)
    image[:, 3:] += 5
    return image


def training_curves(sources: Sources, path: Path) -> None:
    from convnets.figures import plot_training_curves

    histories = {name: sources.trained(name)[1]["history"] for name in ("dense", "convnet")}
    plot_training_curves(histories, path, title="Dense baseline against convnet, book recipe")


def benchmark_chart(name: str, part: str = "runs") -> Callable[[Sources, Path], None]:
    """A chart of a benchmark, redrawn from the results `make bench` recorded in snaps/: its runs ("runs"), its
    batch-size curve ("batch") or its input pipelines' epochs ("pipelines")."""
    def draw(sources: Sources, path: Path) -> None:
        from convnets.benchmark import report

        drawer = {"runs": report.draw_chart, "batch": report.draw_batch_chart, "pipelines": report.draw_pipeline_chart}
        drawer[part](SNAPS_DIR / f"{name}.json", path)
    return draw


class DataJob:
    """A job that writes data for the site, snaps/NAME.json (and the files it names), not a picture."""


class Animation(DataJob):
    """An animation's frame data, built by convnets.animations."""

    def __init__(self, build: Callable[[Sources], dict]) -> None:
        self.build = build

    def __call__(self, sources: Sources, path: Path) -> None:
        from convnets.animations import write

        write(self.build(sources), path)


class PlaygroundExport(DataJob):
    """The trained convnet for the playground page: a manifest, its weights and the test digits it offers."""

    def __call__(self, sources: Sources, path: Path) -> None:
        from convnets.export import export_convnet

        model, record = sources.trained("convnet")
        export_convnet(model, record, *sources.test_set, path)


def first_layer(sources: Sources) -> tuple[np.ndarray, np.ndarray]:
    """The trained convnet's first-layer kernels (3, 3, 1, 32) and biases."""
    return tuple(np.asarray(w) for w in figures().first_conv(sources.convnet).get_weights())


def animations() -> ModuleType:
    from convnets import animations

    return animations


def pooled_digit(sources: Sources) -> dict:
    crop, channel = animations().pool_crop(*first_layer(sources), sources.digit)
    return animations().pool_animation(f"2×2 max pooling, stride 2, on part of filter {channel}'s map of a test digit",
                                       crop)


# Each figure by name (its file name without .png, or .json for an animation), and how to draw it.
JOBS: dict[str, Callable[[Sources, Path], None]] = {
    "local_patterns": lambda src, path: figures().local_patterns(
        path, src.digit, [(3, 9), (4, 14), (10, 10), (16, 7), (17, 19)]),
    "global_and_local": lambda src, path: figures().global_and_local(path, src.dense, src.convnet),
    "translation": lambda src, path: figures().translation(path, src.convnet, src.digit),
    "hierarchy": lambda src, path: figures().hierarchy(path, src.digit, untrained("convnet")),
    "convolution_steps": lambda src, path: figures().convolution_steps(path, toy_image(), EDGE, at=(1, 1)),
    "edge_response": lambda src, path: figures().edge_response(path, src.digit, EDGE),
    "channels": lambda src, path: figures().channels(path),
    "patches_valid": lambda src, path: figures().patch_locations(path, 5, 3, 1, "valid", [(0, 0), (1, 1), (2, 2)]),
    "patches_same": lambda src, path: figures().patch_locations(path, 5, 3, 1, "same", [(0, 0), (2, 2), (4, 4)]),
    "patches_strided": lambda src, path: figures().patch_locations(
        path, 5, 3, 2, "valid", [(0, 0), (0, 1), (1, 0), (1, 1)]),
    "dilation": lambda src, path: figures().dilation_taps(path, 3, (1, 2, 3)),
    "max_pooling": lambda src, path: figures().max_pooling(
        path, np.random.default_rng(26).integers(0, 10, size=(4, 4))),
    "receptive_fields": lambda src, path: figures().receptive_field_growth(
        path, src.digit, untrained("convnet"), untrained("no-max-pool")),
    "translation_experiment": lambda src, path: figures().accuracy_against_shift(
        path, SNAPS_DIR / "translation_experiment.json"),
    "first_layer_filters": lambda src, path: figures().first_layer_filters(path, src.convnet),
    "feature_maps": lambda src, path: figures().feature_maps(path, src.convnet, src.digit),
    "training_curves": training_curves,
    "model_shapes": lambda src, path: figures().model_shapes(path, untrained("convnet")),
    "misread_digits": lambda src, path: figures().misread_digits(path, src.convnet, *src.test_set),
    "benchmark-cpu": benchmark_chart("benchmark-cpu"),
    "benchmark-cpu-batch": benchmark_chart("benchmark-cpu", "batch"),
    "benchmark-cpu-pipelines": benchmark_chart("benchmark-cpu", "pipelines"),
    "benchmark-gpu": benchmark_chart("benchmark-gpu"),
    "anim_valid": Animation(lambda src: animations().conv_animation(
        "“valid”: a 3×3 kernel over a 5×5 input, stride 1", toy_image(), EDGE)),
    "anim_same": Animation(lambda src: animations().conv_animation(
        "“same”: the 5×5 input padded with zeros, stride 1", toy_image(), EDGE, padding="same")),
    "anim_stride_valid": Animation(lambda src: animations().conv_animation(
        "Stride 2, “valid”, on the 5×5 input", toy_image(), EDGE, strides=2)),
    "anim_stride_same": Animation(lambda src: animations().conv_animation(
        "Stride 2, “same”, on a 6×6 input: Keras pads only after", toy_image(6), EDGE, strides=2, padding="same")),
    "anim_dilation": Animation(lambda src: animations().conv_animation(
        "Dilation 2: a 3×3 kernel spread over 5×5 cells of a 7×7 input", toy_image(7), EDGE, dilation=2)),
    "anim_max_pool": Animation(pooled_digit),
    "anim_filter": Animation(lambda src: animations().filter_animation(*first_layer(src), src.digit)),
    "convnet": PlaygroundExport(),
}
FIGURES = tuple(name for name, job in JOBS.items() if not isinstance(job, DataJob))
ANIMATIONS = tuple(name for name, job in JOBS.items() if isinstance(job, Animation))


def parse_args(argv: list[str] | None, names: tuple[str, ...]) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=SNAPS_DIR, help="folder for the PNG files (default: snaps/)")
    parser.add_argument("--only", choices=names, action="append", metavar="NAME",
                        help=f"draw only this figure or animation (repeatable): {', '.join(names)}")
    parser.add_argument("--quick", action="store_true", help="models trained for one epoch on 2,000 images")
    parser.add_verbose_option()
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, tuple(JOBS))
    if args.output.exists() and not args.output.is_dir():
        fail(f"--output is a file, not a folder: {args.output}")
    mnist = local_mnist_or_fail()
    prepare_environment("cpu")
    with framework_logs(LOGS_DIR / "make_figures.log", args.verbose):
        return draw(args, Sources(args.quick, mnist))


def draw(args: argparse.Namespace, sources: Sources) -> int:
    """Draw the figures and write the animations that --only names, or all of them."""
    args.output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    names = args.only or tuple(JOBS)
    for name in names:
        if isinstance(JOBS[name], DataJob):
            paths = [(args.output / f"{name}.json", None)]
        else:
            paths = [(scheme_path(args.output / f"{name}.png", scheme), scheme) for scheme in SCHEMES]
        for path, scheme in paths:
            try:
                if scheme is None:
                    JOBS[name](sources, path)
                else:
                    with drawing_in(scheme):
                        JOBS[name](sources, path)
            except DataError as error:
                fail(str(error))
            print(f"{path}  {path.stat().st_size / 1024:.1f} KB")
    print(f"Drew {len(names)} figure(s) and animation(s) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
