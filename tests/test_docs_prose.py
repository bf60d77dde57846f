"""Numbers in the pages' prose come from the code: each is a claim checked here, or quoted with a reason.

Change an architecture and the sentence that states its parameter count fails here, naming the sentence; add a
number to the prose without a claim and the scan fails, naming the number. Likewise, each comparative sentence
("X beats Y", "no clear difference") stands on the stored results, or fails here.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import statistics
import sys
from typing import Callable

import keras
import numpy as np
import pytest

from backend_experiment import BACKENDS  # code/backend_experiment.py: the backends, in the note's order
import bench  # code/bench.py, whose batch-size curve the benchmark page describes
import playground_fixture
from convnets.benchmark import search
from convnets.benchmark.flops import forward_flops
from convnets.benchmark.report import TRAIN_PY_GOAL, batch_medians, dips, pipeline_epochs
from convnets.cached_fit import fit_or_load
from convnets.data import load_mnist
from convnets.model_names import POOLINGS
from convnets.models import CANVAS_MODELS, MODELS
from convnets.recipes import RECIPES
from convnets.shapes import output_size, receptive_fields, same_padding, window_layers
from convnets.shifts import CANVAS
from convnets.stats import Interval, accuracy_difference, mean_interval, paired_difference, unpaired_difference
from convnets.training import prepare_images
from helpers import ROOT
from pagetest.prose import Claim, check, says, unchecked_comparisons, unchecked_numbers

FIRST, CONV, PAD, STRIDES, POOL, HOME = ("docs/first-convnet.md", "docs/convolution.md", "docs/padding.md",
                                         "docs/strides.md", "docs/max-pooling.md", "docs/index.md")
INVARIANCE, DETAIL, CHECKS = "docs/invariance.md", "docs/experiments.md", "docs/checks.md"  # DETAIL: the appendix
EXPLORER, PLAYGROUND, BENCH = "docs/explorer.md", "docs/playground.md", "docs/benchmark.md"
FULL, SMALL, SHIFTED = "pooling_experiment.json", "pooling_experiment_cpu.json", "translation_experiment.json"
LEVEL = inspect.signature(mean_interval).parameters["level"].default  # of the pages' intervals, tables and figures
ACCURACY = 0.005  # how far a percentage in the prose may be from this session's training run


# --- The models, and what Keras and convnets.shapes say of their layers ---

@functools.cache
def model(name: str) -> keras.Model:
    """One of the book's models, or the convnet with the one change an exercise or a chapter discusses, built once."""
    if name in MODELS:
        return MODELS[name]()
    first_kernel, padding, pools = {"first-5x5": (5, "valid", (True, True)), "same": (3, "same", (True, True)),
                                    "one-pool": (3, "valid", (True, False))}[name]
    x = inputs = keras.Input(shape=(28, 28, 1))
    for filters, kernel, pool in ((32, first_kernel, pools[0]), (64, 3, pools[1]), (128, 3, False)):
        x = keras.layers.Conv2D(filters, kernel, padding=padding, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x) if pool else x
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))


@functools.cache
def canvas(name: str, side: int = CANVAS) -> keras.Model:
    """A translation-experiment model on side×side images."""
    return CANVAS_MODELS[name](side)


def convs(name: str) -> list[keras.layers.Conv2D]:
    return [layer for layer in model(name).layers if isinstance(layer, keras.layers.Conv2D)]


def shape(name: str, index: int) -> tuple:
    """The output shape of layer `index` (0: the input, -3: the last map, -2: Flatten) without the batch axis."""
    return tuple(model(name).layers[index].output.shape[1:])


def dense_params(name: str) -> int:
    return model(name).layers[-1].count_params()


def receptive(name: str) -> list[int]:
    return receptive_fields([(k, s) for _, k, s in window_layers(model(name))])


def conv_formula(layer: keras.layers.Conv2D, channels: int) -> tuple:
    """k, k, channels, filters and the parameters, as in (k·k·channels + 1)·filters = parameters."""
    return *layer.kernel_size, channels, layer.filters, layer.count_params()


def conv_params(filters: int, k: int, channels: int, use_bias: bool = True) -> int:
    """The parameters of a k×k Conv2D from `channels` channels to `filters`, as Keras counts them."""
    layer = keras.layers.Conv2D(filters, k, use_bias=use_bias)
    layer.build((None, 32, 32, channels))
    return layer.count_params()


def valid_side(n: int, k: int, d: int = 1) -> int:
    """The output side of Keras's "valid" k×k Conv2D with dilation d on an n×n input."""
    return keras.layers.Conv2D(1, k, dilation_rate=d).compute_output_shape((1, n, n, 1))[1]


def span(k: int, d: int) -> int:
    """The width of the input window of one output of a k×k Conv2D with dilation d, by Keras."""
    return 28 - valid_side(28, k, d) + 1


def windows_over(pixel: int, pad: int) -> int:
    """How many 3×3 windows of a 5×5 input padded by `pad` hold its pixel (pixel, pixel), by a Keras convolution."""
    image = np.zeros((1, 5, 5, 1), "float32")
    image[0, pixel, pixel, 0] = 1
    conv = keras.layers.Conv2D(1, 3, use_bias=False, kernel_initializer="ones")
    return int(np.asarray(conv(keras.layers.ZeroPadding2D(pad)(image))).sum())


def agreed(*values: int) -> int:
    """The number that each way of computing it gives: they must agree."""
    assert len(set(values)) == 1, f"two ways of computing one number disagree: {values}"
    return values[0]


def size(n: int) -> tuple:
    return n, n


# --- The data, the first chapter's training runs and the stored results (snaps/) ---

mnist = functools.cache(load_mnist)  # ((train images, labels), (test images, labels)), loaded once


FIRST_CHAPTER_FITS = {  # by training images: all, or exercise 4's first 5,000
    None: "{}.fit(train_images, train_labels, epochs=5, batch_size=64)",
    5000: "fresh.fit(train_images[:5000], train_labels[:5000], epochs=5, batch_size=64, verbose=0)"}


@functools.cache
def measured_accuracy(name: str, images: int | None = None) -> float:
    """A model's test accuracy, trained as code/notebooks/first_convnet.py trains it: the page's cache entry."""
    fit = FIRST_CHAPTER_FITS[images].format({"convnet": "model", "dense": "dense"}[name])
    assert fit in (ROOT / "code/notebooks/first_convnet.py").read_text(), "the first chapter trains otherwise"
    (train_images, train_labels), (test_images, test_labels) = mnist()
    net = MODELS[name]()
    net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit_or_load(net, prepare_images(train_images)[:images], train_labels[:images], epochs=5, batch_size=64, verbose=0)
    return net.evaluate(prepare_images(test_images), test_labels, verbose=0)[1]


def backend_run(backend: str) -> dict:
    """The first chapter's convnet as stored by code/backend_experiment.py, trained on `backend`."""
    return next(row for row in snapshot("backends.json")["results"] if row["backend"] == backend)


def backend_epochs(backend: str) -> list[float]:
    """That run's epoch times after the first (which compiles)."""
    return backend_run(backend)["epoch_seconds"][1:]


def slower_than_tensorflow(backend: str) -> bool:
    """Every epoch after the first (which compiles) took longer on `backend` than every one on TensorFlow."""
    return (unpaired_difference(backend_epochs(backend), backend_epochs("tensorflow")).low > 0
            and min(backend_epochs(backend)) > max(backend_epochs("tensorflow")))


def notebook_match(name: str, pattern: str) -> str:
    """The first group of `pattern` in code/notebooks/NAME.py: a number its code uses, as written there."""
    found = re.search(pattern, (ROOT / "code" / "notebooks" / f"{name}.py").read_text(encoding="utf-8"))
    assert found, f"code/notebooks/{name}.py no longer matches {pattern!r}: update this test"
    return found[1]


@functools.cache
def snapshot(name: str) -> dict:
    return json.loads((ROOT / "snaps" / name).read_text())


def settings(name: str) -> dict:
    return snapshot(name)["settings"]


def pooling_row(name: str, pooling: str) -> dict:
    return next(row for row in snapshot(name)["results"] if row["pooling"] == pooling)


def pooling_runs(name: str, pooling: str) -> list[float]:
    """The test accuracies of one downsampling, one per seed, in snaps/`name`."""
    return pooling_row(name, pooling)["test_accuracy"]


def train_minus_test(pooling: str) -> list[float]:
    """The gap between training (last epoch) and test accuracy, in points, one per seed of the CPU run."""
    row = pooling_row(SMALL, pooling)
    return [100 * (train - test) for train, test in zip(row["train_accuracy"], row["test_accuracy"])]


def median_seconds(pooling: str) -> float:
    return statistics.median(pooling_row(SMALL, pooling)["seconds"])


def versus_max(pooling: str, paired: bool = True) -> Interval:
    """The difference in points from max pooling in the CPU run, with its interval."""
    difference = paired_difference if paired else unpaired_difference
    return difference(*([100 * a for a in pooling_runs(SMALL, p)] for p in (pooling, "max")))


def common_worst_seed() -> int | None:
    """The seed (1..N) of the worst CPU run of max, average and strided alike; None when their worst differ."""
    worst = {min(range(len(runs)), key=runs.__getitem__) + 1
             for runs in (pooling_runs(SMALL, pooling) for pooling in POOLINGS[:3])}
    return worst.pop() if len(worst) == 1 else None


def accuracies(name: str, shift: int) -> list[float]:
    """A model's test accuracy, one per seed, on the test digits shifted by `shift` pixels."""
    row = next(row for row in snapshot(SHIFTED)["results"] if row["model"] == name)
    return row["accuracy_by_shift"][settings(SHIFTED)["shifts"].index(shift)]


def mean(name: str, shift: int) -> float:
    return statistics.fmean(accuracies(name, shift))


def bench_run() -> dict:
    return snapshot("benchmark-cpu.json")


def summary(entry: str) -> dict:
    return bench_run()["summaries"][entry]


@functools.cache
def searched() -> tuple[list[dict], dict]:
    """The stored validation search's rows, and the one its rule chooses."""
    rows = search.summarize(snapshot("fast-recipe-search.json")["runs"])
    return rows, search.choose(rows)


def chosen() -> dict:
    return searched()[1]["candidate"]


def fastest_epochs_batch() -> int:
    per_epoch = search.seconds_per_epoch(snapshot("fast-recipe-search.json")["runs"])
    return min(per_epoch, key=per_epoch.get)


SLOW_EPOCH = 1.3  # an epoch of the book's entries is slow past this many times the median epoch of (a)...
QUICK_EPOCHS_WITHIN = 0.05  # ...and the median of (b)'s other epochs is within this share of (a)'s


def book_epochs(entry: str) -> list[float]:
    return [seconds for run in bench_run()["runs"] if run["entry"] == entry for seconds in run["epoch_seconds"]]


def slow_epochs(entry: str) -> list[float]:
    return [seconds for seconds in book_epochs(entry) if seconds > SLOW_EPOCH * statistics.median(book_epochs("book"))]


def epochs_after_the_first() -> dict[str, list[float]]:
    return pipeline_epochs(bench_run()["pipelines"], first=False)


def two_groups(epochs: list[float]) -> tuple[list[float], list[float]] | None:
    """(quicker, slower): the epochs split at their widest gap, if wider than either side's spread; else None."""
    ordered = sorted(epochs)
    widest = max(range(1, len(ordered)), key=lambda i: ordered[i] - ordered[i - 1])
    quick, slow = ordered[:widest], ordered[widest:]
    gap = slow[0] - quick[-1]
    return (quick, slow) if gap > quick[-1] - quick[0] and gap > slow[-1] - slow[0] else None


# --- The claims: fragments of the prose, {} for each number, with how the code computes them ---

CLAIMS: list[Claim] = [
    Claim(FIRST, "MNIST data set, {}×{} grayscale", lambda: mnist()[0][0].shape[1:]),
    Claim(FIRST, "whose input is a flat vector of {} numbers", lambda: shape("dense", 1)[0]),
    Claim(FIRST, "the number of channels grows**, from {} to {}, {} and {}",
          lambda: (shape("convnet", 0)[-1], *(layer.filters for layer in convs("convnet")))),
    Claim(FIRST, "channel: each learns one {}×{}×{} kernel and one bias",
          lambda: tuple(convs("convnet")[0].kernel.shape[:3])),
    Claim(FIRST, "({}·{}·{} + 1)·{} = {} parameters", lambda: conv_formula(convs("convnet")[0], 1)),
    Claim(FIRST, "so each of its {} kernels is {}×{}×{}",
          lambda: (convs("convnet")[1].filters, *convs("convnet")[1].kernel.shape[:3])),
    Claim(FIRST, "its first layer: {} inputs times {} units",
          lambda: (shape("dense", 1)[0], model("dense").layers[2].units)),
    Claim(FIRST, "a hidden `Dense` layer of {} units", lambda: model("dense").layers[2].units),
    Claim(FIRST, "The book reports {} for the dense network and {} for the convnet; our runs agree",
          lambda: (measured_accuracy("dense"), measured_accuracy("convnet")), fmt="{:.1%}", tolerance=ACCURACY),
    Claim(FIRST, "the dense baseline ({} against {} test accuracy)",
          lambda: (measured_accuracy("convnet"), measured_accuracy("dense")), fmt="{:.1%}", tolerance=ACCURACY),
    Claim(FIRST, "(5·5·3 + 1)·16 = {}", lambda: conv_params(16, 5, 3)),
    Claim(FIRST, "with Keras {} on TensorFlow {}, JAX {} and PyTorch {}",  # PyTorch's version without its "+cpu"
          lambda: (snapshot("backends.json")["results"][0]["keras"],
                   *(backend_run(name)["backend_version"].split()[1].split("+")[0] for name in BACKENDS)), fmt="{}"),
    Claim(FIRST, "reached a test accuracy of {} on TensorFlow, {} on JAX and {} on PyTorch",
          lambda: tuple(backend_run(name)["test_accuracy"] for name in BACKENDS), fmt="{:.3f}"),
    Claim(FIRST, "Its five epochs took {} s on TensorFlow, {} s on JAX, about {} times as long, and {} s on PyTorch, "
          "about {} times as long",
          lambda: (lambda tf, jax, torch: (round(tf), round(jax), round(jax / tf, 1), round(torch), round(torch / tf, 1)))(
              *(backend_run(name)["fit_seconds"] for name in BACKENDS)), fmt="{:g}"),
    Claim(FIRST, "The first map is {}×{} instead of {}×{}",
          lambda: (*shape("first-5x5", 1)[:2], *shape("convnet", 1)[:2])),
    Claim(FIRST, "the last map is {}×{}×{} again, so `Flatten` still gives {} values",
          lambda: (*shape("first-5x5", -3), shape("first-5x5", -2)[0])),
    Claim(FIRST, "({}·{}·{} + 1)·{} = {} instead of {}",
          lambda: (*conv_formula(convs("first-5x5")[0], 1), convs("convnet")[0].count_params())),
    Claim(FIRST, "on {} test digits it has", lambda: len(mnist()[1][1])),
    Claim(FIRST, "the network is right about {} of the time", lambda: measured_accuracy("convnet"), fmt="{:.0%}",
          tolerance=ACCURACY),
    Claim(FIRST, "That is a test error rate of about {}", lambda: 1 - measured_accuracy("convnet"),
          fmt="{:.1%}", tolerance=0.002),
    Claim(CONV, "a weighting of the whole {}×{} image", lambda: mnist()[0][0].shape[1:]),
    Claim(CONV, "so it can be drawn as a {}×{} image", lambda: mnist()[0][0].shape[1:]),
    Claim(CONV, "Each of the {} units of the dense baseline", lambda: model("dense").layers[2].units),
    Claim(CONV, "our model uses {}, then {}, then {}", lambda: tuple(layer.filters for layer in convs("convnet"))),
    Claim(CONV, "the second layer of our model has kernels of shape {}×{}×{}",
          lambda: tuple(convs("convnet")[1].kernel.shape[:3])),
    Claim(CONV, "the ink has the high values ({})", lambda: int(mnist()[0][0].max())),
    Claim(CONV, "the convnet does about {} million multiply-adds per image",
          lambda: forward_flops(model("convnet")) / 2e6, fmt="{:.1f}"),
    Claim(CONV, "the dense baseline about {} million", lambda: forward_flops(model("dense")) / 2e6, fmt="{:.2f}"),
    Claim(CONV, "reused at all {}×{} positions", lambda: shape("convnet", 1)[:2]),
    Claim(CONV, "each of the {} filters has a {}×{}×{} kernel and one bias: ({}·{}·{} + 1)·{} = {} parameters",
          lambda: (convs("convnet")[1].filters, *convs("convnet")[1].kernel.shape[:3],
                   *conv_formula(convs("convnet")[1], convs("convnet")[0].filters))),
    Claim(CONV, "convolution has ({} + 1)·{} = {} parameters, and a 3×3 one between the same channels "
          "({}·{}·{} + 1)·{} = {}", lambda: (128, 32, conv_params(32, 1, 128), 3, 3, 128, 32, conv_params(32, 3, 128))),
    Claim(CONV, "with the hand-made kernel on {} training digits",
          lambda: int(notebook_match("convolution", r"images = train_images\[:(\d+),"))),
    Claim(CONV, "Train the book's convnet ({}, {} and {} filters)",
          lambda: tuple(layer.filters for layer in convs("convnet"))),
    Claim(CONV, "on the first {} training images for one epoch",
          lambda: int(notebook_match("convolution", r"subset = train_images\[:([\d_]+),"))),
    Claim(CONV, "a bias of {}", lambda: float(notebook_match("convolution", r"conv2d\(x, blur, np\.full\(1, ([\d.]+)\)\)")),
          fmt="{:g}"),
    Claim(PAD, "the {}×{} digit came out of the first convolution as a {}×{} feature map",
          lambda: (*shape("convnet", 0)[:2], *shape("convnet", 1)[:2])),
    Claim(PAD, "the last map is {}×{}×{} = {} values instead of {}",
          lambda: (*shape("same", -3), shape("same", -2)[0], shape("convnet", -2)[0])),
    Claim(PAD, "28 − 10·2 = {}", lambda: functools.reduce(lambda n, _: output_size(n, 3), range(10), 28)),
    Claim(PAD, "so the `Dense` layer has {} parameters instead of {}",
          lambda: (dense_params("same"), dense_params("convnet"))),
    Claim(PAD, "A pixel in the middle feeds {} outputs; a corner pixel feeds {}",
          lambda: (windows_over(2, 0), windows_over(0, 0)), fmt="{}"),
    Claim(PAD, "With one ring of zeros a corner pixel feeds {} outputs, still against {}",
          lambda: (windows_over(0, 1), windows_over(2, 1)), fmt="{}"),
    Claim(PAD, "a corner pixel in {} against {} for a middle pixel without padding, and in {} against {} with",
          lambda: (windows_over(0, 0), windows_over(2, 0), windows_over(0, 1), windows_over(2, 1)), fmt="{}"),
    Claim(STRIDES, "The last map is a little larger, {}×{}×{} = {} values, so the `Dense` layer has {} "
          "parameters instead of {}", lambda: (*shape("pooling-strided", -3), shape("pooling-strided", -2)[0],
                                               dense_params("pooling-strided"), dense_params("convnet"))),
    Claim(STRIDES, "grows from {}×{} to {}×{} and {}×{}", lambda: sum((size(span(3, d)) for d in (1, 2, 3)), ())),
    Claim(STRIDES, "with dilations 1, 2 and 4 see {}×{} pixels of the input, against {}×{} with three ordinary 3×3",
          lambda: sum((size(receptive_fields([(span(3, d), 1) for d in dilations])[-1])
                       for dilations in ((1, 2, 4), (1, 1, 1))), ())),
    Claim(STRIDES, "padding one row on each side gives the same {}×{} shape", lambda: size(output_size(28, 3, 2, "same"))),
    Claim(POOL, "{}×{} becomes {}×{}, and {}×{} becomes {}×{}",
          lambda: sum((shape("convnet", i)[:2] for i in (1, 2, 3, 4)), ())),
    Claim(POOL, "from {}×{} to {}×{}", lambda: (*shape("no-max-pool", 1)[:2], *shape("no-max-pool", -3)[:2])),
    Claim(POOL, "Its units see only a {}×{} region of the input. A {}×{} window of a {}×{} digit",
          lambda: (*size(receptive("no-max-pool")[-1]), *size(receptive("no-max-pool")[-1]), *shape("convnet", 0)[:2])),
    Claim(POOL, "with pooling, the third layer sees {}×{} pixels", lambda: size(receptive("convnet")[-1])),
    Claim(POOL, "Two stacked 3×3 convolutions see a {}×{} window", lambda: size(receptive_fields([(3, 1)] * 2)[-1])),
    Claim(POOL, "3·3 + 3·3 = {} weights per pair of input and output channels instead of 5·5 = {}",
          lambda: (2 * conv_params(1, 3, 1, use_bias=False), conv_params(1, 5, 1, use_bias=False))),
    Claim(POOL, "The `Dense` layer alone has {} parameters, against {} in the pooled model",
          lambda: (dense_params("no-max-pool"), dense_params("convnet"))),
    *(Claim(page, "evaluated on the {} test images", lambda: settings(SMALL)["test_images"]) for page in (POOL, DETAIL)),
    Claim(POOL, "({}×{} pixels for the third layer here)", lambda: size(receptive("no-max-pool")[-1])),
    Claim(POOL, "becomes huge ({} parameters here)", lambda: dense_params("no-max-pool")),
    Claim(POOL, "{}, {}, {} and {} pixels wide, so the last one has {}·{}·{} = {} values and the `Dense` layer "
          "({} + 1)·10 = {} parameters",
          lambda: (*(shape("one-pool", i)[0] for i in (1, 2, 3, 4)), *shape("one-pool", -3),
                   shape("one-pool", -2)[0], shape("one-pool", -2)[0], dense_params("one-pool"))),
    Claim(POOL, "On a {}×{} map both give {}×{}",  # two 2×2 poolings, and one 4×4
          lambda: (*shape("convnet", 1)[:2], *size(agreed(output_size(output_size(26, 2, 2), 2, 2),
                                                          output_size(26, 4, 4))))),
    Claim(INVARIANCE, "centered in their {}×{} images", lambda: mnist()[0][0].shape[1:]),
    Claim(INVARIANCE, "we put each {}×{} digit on a blank {}×{} canvas. A centered digit has a margin of {} pixels",
          lambda: (*mnist()[0][0].shape[1:], *size(CANVAS), (CANVAS - 28) // 2)),
    Claim(INVARIANCE, "On {}×{} digits, `Flatten` gives {}×{}×{} = {} values; global average pooling gives {}, "
          "whatever", lambda: (*shape("convnet", 0)[:2], *shape("convnet", -3), shape("convnet", -2)[0],
                               canvas("global-pooling", 28).layers[-1].input.shape[-1])),
    Claim(INVARIANCE, "On the canvas, the book's convnet ends in a {}×{}×{} map, and its `Dense` layer has {} "
          "parameters; the global-pooling convnet's still has {}",
          lambda: (*canvas("convnet").layers[-3].output.shape[1:], canvas("convnet").layers[-1].count_params(),
                   canvas("global-pooling").layers[-1].count_params())),
    Claim(INVARIANCE, "after global average pooling, it stays at {}",
          lambda: canvas("global-pooling").layers[-1].count_params()),
    *(Claim(page, sentence, lambda: size(settings(SHIFTED)["canvas"])) for page, sentence in (
        (INVARIANCE, "placed at the center of the {}×{} canvas"), (DETAIL, "placed at the center of a {}×{} canvas"))),
    Claim(INVARIANCE, "for {} epochs instead of the book's {}",
          lambda: (settings(SHIFTED)["epochs"], RECIPES["book"].epochs)),
    Claim(DETAIL, "for {} epochs instead of {}", lambda: (settings(SHIFTED)["epochs"], RECIPES["book"].epochs)),
    Claim(INVARIANCE, "with {} seeds, and is tested on the {} test digits moved by 0, 1, ..., {} pixels",
          lambda: (settings(SHIFTED)["seeds"], settings(SHIFTED)["test_images"], settings(SHIFTED)["shifts"][-1])),
    Claim(DETAIL, "with {} seeds. Each trained model is then tested on the {} test digits moved by 0, 1, …, {} pixels",
          lambda: (settings(SHIFTED)["seeds"], settings(SHIFTED)["test_images"], settings(SHIFTED)["shifts"][-1])),
    Claim(DETAIL, "The global-pooling convnet's three seeds disagree at 6 pixels, from {} to {}",
          lambda: (min(accuracies("global-pooling", 6)), max(accuracies("global-pooling", 6))), fmt="{:.1%}"),
    Claim(INVARIANCE, "the global-pooling convnet last: {} against {} after",
          lambda: (mean("convnet", 0), mean("global-pooling", 0)), fmt="{:.1%}"),
    Claim(INVARIANCE, "after {} epochs. Then the digits move", lambda: settings(SHIFTED)["epochs"]),
    Claim(INVARIANCE, "takes the dense network from {} to {}", lambda: (mean("dense", 0), mean("dense", 1)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "it scores {} at 3 pixels and {} at 6", lambda: (mean("convnet", 3), mean("convnet", 6)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "{} against {} at 3 pixels", lambda: (mean("global-pooling", 3), mean("convnet", 3)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "still falls with each pixel, to {} at 6 pixels", lambda: mean("global-pooling", 6),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "below the {} of a random guess", lambda: 1 / model("convnet").layers[-1].units, fmt="{:.0%}"),
    Claim(INVARIANCE, "and its {} interval as a band", lambda: LEVEL, fmt="{:.0%}"),
    # The convolution explorer's suggested settings, by the project's formulas and Keras
    Claim(EXPLORER, "the output is {} wide and the padding is one row on each side",
          lambda: output_size(5, 3, 2, "same") if same_padding(5, 3, 2) == (1, 1) else "padding other than (1, 1)",
          fmt="{}"),
    Claim(EXPLORER, "Change the kernel to $k = 2$ and the padding becomes {} before and {} after",
          lambda: same_padding(5, 2, 2), fmt="{}"),
    Claim(EXPLORER, "$k = 3$ and $s = 2$, Keras pads {} rows before and {} after", lambda: same_padding(28, 3, 2),
          fmt="{}"),
    Claim(EXPLORER, "each window spans {} cells and the output is {} wide", lambda: (span(3, 2), valid_side(7, 3, 2)),
          fmt="{}"),
    Claim(EXPLORER, "At $n = 6$ both still give {} outputs, but `\"same\"` pads {} before and {} after",  # and padding 1
          lambda: (agreed(output_size(6 + 2, 3, 2), output_size(6, 3, 2, "same")), *same_padding(6, 3, 2)), fmt="{}"),
    # The pooling experiment's stored runs
    Claim(DETAIL, "So the results come with {} confidence intervals", lambda: LEVEL, fmt="{:.0%}"),
    Claim(DETAIL, "JAX backend, with {} seeds per model", lambda: settings(FULL)["seeds"], fmt="{}"),
    Claim(DETAIL, "a run on the whole training set with the book's {} epochs", lambda: settings(FULL)["epochs"],
          fmt="{}"),
    Claim(DETAIL, "each run trains on the first {} training images for three epochs, with {} seeds per model",
          lambda: (settings(SMALL)["training_images"], settings(SMALL)["seeds"])),
    Claim(POOL, "each run trains on {} training images for {} epochs",
          lambda: (settings(SMALL)["training_images"], settings(SMALL)["epochs"])),
    Claim(POOL, "each version trains with {} seeds", lambda: settings(SMALL)["seeds"], fmt="{}"),
    Claim(POOL, "seed {}, for instance, gave the worst run of each model that downsamples", common_worst_seed,
          fmt="{}"),
    Claim(POOL, "with the whole training set and {} epochs but only three seeds per model",
          lambda: settings(FULL)["epochs"], fmt="{}"),
    *(Claim(page, "by {} and {} points on average",
            lambda: (-versus_max("average").mean, -versus_max("strided").mean), fmt="{:.1f}") for page in (POOL, DETAIL)),
    Claim(DETAIL, "that interval runs from −{} to +{} points",
          lambda: (-versus_max("none").low, versus_max("none").high), fmt="{:.1f}"),
    Claim(DETAIL, "its runs took a median of {} s against {} s with max pooling, {} times longer",
          lambda: (median_seconds("none"), median_seconds("max"), median_seconds("none") / median_seconds("max")),
          fmt="{:.0f}"),
    Claim(DETAIL, "fits its training images best, {} in the last epoch",
          lambda: statistics.fmean(pooling_row(SMALL, "none")["train_accuracy"]), fmt="{:.1%}"),
    Claim(DETAIL, "larger than that of every other model: {} points against {} for max",
          lambda: (statistics.fmean(train_minus_test("none")), statistics.fmean(train_minus_test("max"))),
          fmt="{:.1f}"),
    Claim(DETAIL, "their interval grows from ±{} to ±{} points",
          lambda: (versus_max("strided").half_width, versus_max("strided", paired=False).half_width), fmt="{:.2f}"),
    Claim(DETAIL, "the two widths are nearly equal, ±{} and ±{}",
          lambda: (versus_max("none").half_width, versus_max("none", paired=False).half_width), fmt="{:.2f}"),
    Claim(POOL, "In our {}-seed experiment", lambda: settings(SMALL)["seeds"], fmt="{}"),
    *(Claim(POOL, sentence, lambda: median_seconds("none") / median_seconds("max"), fmt="{:.0f}")
      for sentence in ("which took {} times longer to train", "pays in time, {} times longer per run")),
    # The playground: the network, MNIST's geometry, the published weights and the checks' settings
    Claim(PLAYGROUND, "MNIST's digits were not drawn at {}×{}", lambda: mnist()[0][0].shape[1:]),
    Claim(PLAYGROUND, "scaled so that it fits a {}×{} box without changing its proportions, and placed in the {}×{} "
          "frame", lambda: (*size(playground_fixture.mnist_geometry(mnist()[0][0][:10_000])[0]),
                            *mnist()[0][0].shape[1:])),
    Claim(PLAYGROUND, "The first `Conv2D` layer gives {} maps of {}×{}",
          lambda: (convs("convnet")[0].filters, *shape("convnet", 1)[:2])),
    Claim(PLAYGROUND, "by the third `Conv2D` layer there are {} maps of only {}×{}",
          lambda: (convs("convnet")[2].filters, *shape("convnet", -3)[:2])),
    Claim(PLAYGROUND, "sees: {}×{} pixels in the first layer, {}×{} after the first pooling, {}×{} in the second "
          "`Conv2D` layer, {}×{} after the second pooling and {}×{} in the third `Conv2D` layer",
          lambda: sum((size(n) for n in receptive("convnet")), ())),
    Claim(PLAYGROUND, "which of the third layer's {} maps light up", lambda: convs("convnet")[2].filters),
    Claim(PLAYGROUND, "`snaps/convnet.weights.bin`, {} numbers as little-endian",
          lambda: snapshot("convnet.json")["parameters"]),
    Claim(PLAYGROUND, "in Node and in Chromium on {} test digits", lambda: playground_fixture.CHECKED_DIGITS),
    Claim(PLAYGROUND, "every value must agree within {}, every probability within {}",
          lambda: tuple(map(np.format_float_positional, (playground_fixture.LAYER_TOLERANCE,
                                                         playground_fixture.PROBABILITY_TOLERANCE))), fmt="{}"),
    # The benchmark: the validation search, the fast recipe and the stored CPU run (snaps/benchmark-cpu.json)
    *(Claim(BENCH, sentence, lambda: LEVEL, fmt="{:.0%}") for sentence in (
        "the final test accuracy with its {} interval", "its mean over the seeds with a {} confidence interval",
        "above `0.990` with its whole {} interval", "the paired difference of their fit times has a {} interval")),
    Claim(BENCH, "Each candidate trains on the first {} training images and is scored on the last {}",
          lambda: (len(mnist()[0][0]) - search.VALIDATION_IMAGES, search.VALIDATION_IMAGES)),
    Claim(BENCH, "The rule picks batch {}, one epoch, peak rate {}, smoothing {}",
          lambda: (chosen()["batch_size"], chosen()["learning_rate"], chosen()["label_smoothing"]), fmt="{:g}"),
    Claim(BENCH, "In each of the {} pairs of candidates that differ only in their smoothing",
          lambda: len(search.candidates()) // len(search.LABEL_SMOOTHING)),
    Claim(BENCH, "Batch {} has the shortest epochs", fastest_epochs_batch),
    Claim(BENCH, "A winner picked from {} candidates on two seeds each", lambda: len(search.candidates())),
    Claim(BENCH, "at batch {} two one-epoch candidates qualify", lambda: chosen()["batch_size"]),
    Claim(BENCH, "With a smoothing of {}, a tenth of the target", lambda: RECIPES["fast"].label_smoothing, fmt="{:g}"),
    Claim(BENCH, "{} for class 7 and {} for each of the others",  # a label-smoothed target: its class, each other
          lambda: (lambda s: (1 - s + s / 10, s / 10))(RECIPES["fast"].label_smoothing), fmt="{:.2f}"),
    Claim(BENCH, "at batch sizes from {} to {}",
          lambda: (min(bench.BATCH_CURVE), max(bench.BATCH_CURVE))),
    Claim(BENCH, "It trains the book's architecture, with the same {} parameters",
          lambda: summary("fast")["parameters"][0]),
    Claim(BENCH, "staying within {} times the book's time", lambda: TRAIN_PY_GOAL, fmt="{:g}"),
    Claim(BENCH, "its median fit is {} times (a)'s", lambda: summary("book-train-py")["ratios"]["fit_seconds"],
          fmt="{:.2f}"),
    Claim(BENCH, "more than {} times the median epoch of (a), (b) drew {} slow epochs out of its {} in this run, and "
                 "(a) drew {}",
          lambda: (SLOW_EPOCH, len(slow_epochs("book-train-py")), len(book_epochs("book-train-py")),
                   len(slow_epochs("book"))), fmt="{:g}"),
    Claim(BENCH, "the median of (b)'s is within {}% of the median", lambda: 100 * QUICK_EPOCHS_WITHIN, fmt="{:g}"),
    Claim(BENCH, "From a batch of {} on, each doubling", lambda: bench.BATCH_CURVE[2]),
    Claim(BENCH, "The fast recipe still trains with batches of {}", lambda: RECIPES["fast"].batch_size),
    Claim(BENCH, "{} of the {} take at least {} seconds, the others at most {}",  # Keras's pipeline's two groups
          lambda: (lambda quick, slow: (len(slow), len(quick) + len(slow), round(slow[0], 1), round(quick[-1], 1)))(
              *two_groups(epochs_after_the_first()["keras"])),
          fmt="{:g}"),
    Claim(BENCH, "its slowest after the first takes {} seconds",
          lambda: max(epochs_after_the_first()["gather"]), fmt="{:.1f}"),
    Claim(BENCH, "without autotuning, with {} intervals (Welch's", lambda: unpaired_difference.__defaults__[0],
          fmt="{:.0%}"),
    Claim(BENCH, "the book's code trains for {} s to a mean final test accuracy of {}, and the fast recipe for {} s "
                 "to {}", lambda: tuple(f"{summary(entry)[key]:{spec}}" for entry in ("book", "fast")
                                        for key, spec in (("fit_seconds", ".2f"), ("accuracy_mean", ".4f"))), fmt="{}"),
    Claim(BENCH, "at {} the recipe trains {} images per second against {} at the book's {}",
          lambda: (RECIPES["fast"].batch_size,
                   *(f"{batch_medians(bench_run()['batch_curve'])[RECIPES[name].batch_size]:,.0f}"
                                                 for name in ("fast", "book")), RECIPES["book"].batch_size), fmt="{}"),
    Claim(BENCH, "computing faster, {} images per second against the book's {}",
          lambda: (summary("fast")["images_per_second"], summary("book")["images_per_second"]), fmt="{:,.0f}"),
]

# Numbers the code does not produce, per page: fragments as the Markdown writes them.
QUOTED: dict[str, list[str]] = {
    HOME: ["chapter 8.1"],  # the book's chapter
    FIRST: ["have on 32×32 RGB images",  # the exercises' givens, and the book's section
            "on the first 5,000 training images only", "the whole program of the book's section 8.1"],
    CONV: ["a 1×1 convolution from 128 to 32 channels"],  # the exercise's given
    PAD: ["a 28×28 input, for 3×3, 5×5 and 7×7 windows",  # the exercise's givens
          "Stack ten 3×3 convolutions without padding on a 28×28 input",
          "for one epoch on the first 10,000 training images"],  # the exercise's given
    STRIDES: ["turn a 28×28 input into a 7×7 output",  # the exercise's given
              "for one epoch on the first 10,000",  # the exercise's given
              "*Deep Learning with Python* (2nd edition, 2021)", "The book (2021)"],  # the book's edition
    POOL: ["each for one epoch on the first 10,000 training images",  # the exercise's given
           "the book's Listing 8.5"],  # the book's listing
    INVARIANCE: ["for one epoch on the first 10,000 training digits, centered on a 32×32 canvas"],  # exercise's givens
    PLAYGROUND: ["SHA-256"],  # the hash's name
    CHECKS: ["sizes such as 26×26×32", "the 95% confidence interval", "SHA-256"],  # examples and names
}

PAGES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: f"{claim.page}: {claim.sentence}")
def test_prose_number_matches_the_code(claim):
    problems = check(claim, ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", PAGES)
def test_every_significant_number_in_the_prose_is_checked_or_quoted(doc):
    unchecked = unchecked_numbers(doc, ROOT, CLAIMS, QUOTED.get(doc, []))
    assert not unchecked, "numbers in the prose that no claim checks (add a Claim, or quote them with a reason):\n" \
        + "\n".join(unchecked)


# --- Comparative sentences: each stands on the stored results ---
# A sentence that says one thing is higher or lower stands only if the 95% interval of the difference (convnets.stats)
# excludes 0; one that says "no clear difference" only if it contains 0.

def beats(first: list[float], second: list[float]) -> bool:
    """`first` is higher than `second`: the 95% interval of their difference over paired seeds is above 0."""
    return paired_difference(first, second).low > 0


def no_clear_difference(first: list[float], second: list[float]) -> bool:
    """The 95% interval of the difference over paired seeds contains 0."""
    return not paired_difference(first, second).excludes_zero()


def test_a_comparison_needs_a_difference_resolved_over_the_seeds():
    assert beats([0.92, 0.93, 0.94], [0.90, 0.91, 0.92])
    assert not beats([0.92, 0.90, 0.94], [0.91, 0.92, 0.90])  # higher on average, but the interval holds 0
    assert no_clear_difference([0.92, 0.90, 0.94], [0.91, 0.92, 0.90])
    assert not no_clear_difference([0.92, 0.93, 0.94], [0.90, 0.91, 0.92])


def below_chance(name: str, shift: int) -> bool:
    """Worse than a random guess among 10 classes: the 95% interval of the mean over seeds is below 10%."""
    return mean_interval(accuracies(name, shift)).high < 0.1


def first_chapter_gap(*images: int) -> Interval:
    """The convnet's test accuracy minus the dense network's, as the first chapter trains them, with its interval."""
    return accuracy_difference(measured_accuracy("convnet", *images), measured_accuracy("dense", *images),
                               len(mnist()[1][0]))


def convnet_beats_dense() -> bool:
    return first_chapter_gap().low > 0


def subset_gap_exceeds_full() -> bool:
    """Exercise 4: on 5,000 training images the convnet wins by more than on all (the intervals do not overlap)."""
    return first_chapter_gap(5000).low > max(0, first_chapter_gap().high)


def global_pooling_ahead_from_3_pixels() -> bool:
    return all(beats(accuracies("global-pooling", shift), accuracies("convnet", shift))
               for shift in settings(SHIFTED)["shifts"][3:])


def max_beats_average_and_strided() -> bool:
    return all(beats(pooling_runs(SMALL, "max"), pooling_runs(SMALL, p)) for p in ("average", "strided"))


def none_level_with_max() -> bool:
    return no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max"))


def none_pays_in_time() -> bool:
    return all(none > pooled for none, pooled in zip(pooling_row(SMALL, "none")["seconds"],
                                                     pooling_row(SMALL, "max")["seconds"])) and none_level_with_max()


COMPARISONS: dict[tuple[str, str], Callable[[], bool]] = {
    (FIRST, "We will see that a small convnet does better"): convnet_beats_dense,
    (CONV, "The convnet of the [previous chapter](first-convnet.md) beat a dense network"): convnet_beats_dense,
    (FIRST, "Why does the convnet generalize so much better?"): convnet_beats_dense,
    (FIRST, "On MNIST the small convnet beats the dense baseline"): convnet_beats_dense,
    (FIRST, "s on JAX, about"): lambda: slower_than_tensorflow("jax"),
    (FIRST, "s on PyTorch, about"): lambda: slower_than_tensorflow("torch"),
    (FIRST, "The convnet makes fewer than half as many mistakes"):
        lambda: convnet_beats_dense() and 1 - measured_accuracy("convnet") < (1 - measured_accuracy("dense")) / 2,
    (FIRST, "The convnet does better, and by more than on the full training set"): subset_gap_exceeds_full,
    (DETAIL, "Max pooling has the highest mean"):
        lambda: max(POOLINGS, key=lambda p: statistics.fmean(pooling_runs(FULL, p))) == "max",
    (DETAIL, "between max pooling and each of the other three this run finds no clear difference"):
        lambda: all(no_clear_difference(pooling_runs(FULL, p), pooling_runs(FULL, "max")) for p in POOLINGS[1:]),
    (DETAIL, "Max pooling beats average pooling and strided convolutions"): max_beats_average_and_strided,
    (POOL, "Compared seed by seed, max pooling beat average pooling and strided convolutions"):
        max_beats_average_and_strided,
    (DETAIL, "Between max pooling and no pooling at all, the experiment finds no clear difference"): none_level_with_max,
    (POOL, "Between max pooling and no pooling, the experiment finds no clear difference in accuracy"):
        none_level_with_max,
    (POOL, "the model without pooling pays in time"): none_pays_in_time,
    (DETAIL, "the model without pooling pays in time, not in accuracy"): none_pays_in_time,
    (DETAIL, "The model without pooling fits its training images best"):
        lambda: all(beats(pooling_row(SMALL, "none")["train_accuracy"], pooling_row(SMALL, p)["train_accuracy"])
                    for p in POOLINGS[:3]),
    (DETAIL, "its gap between training and test accuracy is larger than that of every other model"):
        lambda: all(beats(train_minus_test("none"), train_minus_test(p)) for p in POOLINGS[:3]),
    (DETAIL, "here that did not cost it test accuracy"): none_level_with_max,
    (DETAIL, "fitted its training images more closely than it fitted the test images"):
        lambda: beats(pooling_row(SMALL, "none")["train_accuracy"], pooling_runs(SMALL, "none")),
    (DETAIL, "Paired by seed, the difference is resolved; unpaired, it is not"):
        lambda: versus_max("strided").excludes_zero() and not versus_max("strided", paired=False).excludes_zero(),
    (POOL, "max pooling beat average pooling and strided convolutions, and showed no clear difference from no "
           "pooling"): lambda: max_beats_average_and_strided() and none_level_with_max(),
    (POOL, "only three seeds per model, could not separate any of the four"):
        lambda: settings(FULL)["seeds"] == 3 and all(no_clear_difference(pooling_runs(FULL, a), pooling_runs(FULL, b))
                                                     for i, a in enumerate(POOLINGS) for b in POOLINGS[i + 1:]),
    (INVARIANCE, "On the centered test digits, the book's convnet comes first and the global-pooling convnet "
                 "last"):
        lambda: beats(accuracies("convnet", 0), accuracies("dense", 0))
        and beats(accuracies("dense", 0), accuracies("global-pooling", 0)),
    (INVARIANCE, "From 4 pixels on, the dense network is below the 10% of a random guess"):
        lambda: all(below_chance("dense", shift) for shift in settings(SHIFTED)["shifts"][4:]),
    (INVARIANCE, "The book's convnet does better than the dense network at every shift from 1 to 4 pixels"):
        lambda: all(beats(accuracies("convnet", shift), accuracies("dense", shift)) for shift in (1, 2, 3, 4)),
    (INVARIANCE, "at 6, below a random guess too"): lambda: below_chance("convnet", 6),
    (DETAIL, "At 1 pixel, the book's convnet is still ahead of the global-pooling convnet"):
        lambda: beats(accuracies("convnet", 1), accuracies("global-pooling", 1)),
    (DETAIL, "at 2 pixels the data show no clear difference between the two convnets"):
        lambda: no_clear_difference(accuracies("global-pooling", 2), accuracies("convnet", 2)),
    (INVARIANCE, "At 3 pixels and beyond the global-pooling convnet keeps more of its accuracy than the book's "
                 "convnet"):
        global_pooling_ahead_from_3_pixels,
    (INVARIANCE, "Global average pooling made the convnet far more tolerant of shifts, not invariant to them: its "
                 "accuracy still falls with each pixel"):
        lambda: all(mean("global-pooling", shift) > mean("global-pooling", shift + 1)
                    for shift in settings(SHIFTED)["shifts"][:-1]) and global_pooling_ahead_from_3_pixels(),
    (INVARIANCE, "the convnet ending in global average pooling is the only one still above a random guess at 6 "
                 "pixels"):
        lambda: mean_interval(accuracies("global-pooling", 6)).low > 0.1  # above chance, the others below
        and below_chance("dense", 6) and below_chance("convnet", 6),
}

# The benchmark page's comparative sentences stand on the stored CPU run (snaps/benchmark-cpu.json) and search.
# The probes are single short runs; the page calls a change of less than a third their noise.
NOISE = 4 / 3


def per_seed(entry: str, key: str) -> dict[int, float]:
    return {run["seed"]: run[key] for run in bench_run()["runs"] if run["entry"] == entry}


def probe_ratio(label: str) -> float:
    """A probe's images per second over the first probe's."""
    speeds = {probe["label"]: probe["steady_images_per_second"] for probe in bench_run()["probes"]}
    return speeds[label] / bench_run()["probes"][0]["steady_images_per_second"]


def probe_setup(label: str) -> dict:
    probe = next(probe for probe in bench_run()["probes"] if probe["label"] == label)
    return {key: probe[key] for key in ("policy", "onednn", "jit_compile", "batch_size")}


def search_candidates(**wanted) -> list[dict]:
    """The stored search's rows whose candidate has these settings."""
    return [row for row in searched()[0] if all(row["candidate"][key] == value for key, value in wanted.items())]


def smoothing_pairs() -> list[tuple[dict, dict]]:
    """(without, with) label smoothing: the stored search's rows that differ in nothing else."""
    def rest(row: dict) -> tuple:
        return tuple(value for name, value in row["candidate"].items() if name != "label_smoothing")

    without = {rest(row): row for row in searched()[0] if not row["candidate"]["label_smoothing"]}
    return [(without[rest(row)], row) for row in searched()[0] if row["candidate"]["label_smoothing"]]


def tie_taken_first() -> bool:
    """At the chosen batch, two one-epoch candidates qualify, tie on the estimate, and the rule takes the first."""
    qualified = [row for row in search_candidates(batch_size=chosen()["batch_size"], epochs=1) if row["qualifies"]]
    return (len(qualified) == 2 and qualified[0]["estimated_seconds"] == qualified[1]["estimated_seconds"]
            and chosen() == qualified[0]["candidate"])


def curve_speeds() -> dict[int, dict[int, float]]:
    """The stored batch-size curve's images per second by round, then by batch size."""
    speeds: dict[int, dict[int, float]] = {}
    for point in bench_run()["batch_curve"]:
        speeds.setdefault(point["round"], {})[point["batch_size"]] = point["images_per_second"]
    return speeds


def curve_gains() -> list[float]:
    """The relative gain in images per second of each batch size of the curve over the one before, on the medians."""
    speeds = list(batch_medians(bench_run()["batch_curve"]).values())
    return [later / earlier - 1 for earlier, later in zip(speeds, speeds[1:])]


def quick_epochs_ratio() -> float:
    """The median of (b)'s epochs that are not slow over the median of (a)'s."""
    quick = {entry: [s for s in book_epochs(entry) if s not in slow_epochs(entry)] for entry in ("book", "book-train-py")}
    return statistics.median(quick["book-train-py"]) / statistics.median(quick["book"])


def one_epoch_where_the_book_trains_five() -> bool:
    return (RECIPES["fast"].epochs == 1 and set(per_seed("fast", "epochs").values()) == {1}
            and bench_run()["runs"][0]["epochs"] == 5)


COMPARISONS.update({(BENCH, sentence): stands for sentence, stands in {
    "Without label smoothing, no one-epoch candidate reaches the threshold on both seeds; with it, four do":
        lambda: not any(row["qualifies"] for row in search_candidates(epochs=1, label_smoothing=0.0))
        and sum(row["qualifies"] for row in search_candidates(epochs=1, label_smoothing=0.1)) == 4,
    "the one with smoothing has the higher mean validation accuracy":
        lambda: all(smoothed["validation_mean"] > plain["validation_mean"] for plain, smoothed in smoothing_pairs()),
    "has the shortest epochs, but none of its one-epoch candidates reaches the threshold":
        lambda: not any(row["qualifies"] for row in search_candidates(batch_size=fastest_epochs_batch(), epochs=1)),
    "two one-epoch candidates qualify and tie on the estimate, and the rule takes the first": tie_taken_first,
    "which it never trains on, with two seeds":
        lambda: all(row["seeds"] == 2 for row in searched()[0]) and search.SEARCH_SEEDS == 2,
    "The rule picks batch 128, one epoch": lambda: chosen()["epochs"] == 1,
    "sample efficiency**: one epoch instead of five": one_epoch_where_the_book_trains_five,
    "at a peak learning rate ten times RMSprop's default":
        lambda: RECIPES["fast"].optimizer == "adam" and RECIPES["fast"].learning_rate == 10 * inspect.signature(
            keras.optimizers.RMSprop).parameters["learning_rate"].default,
    "smaller batches, a lower peak rate, no label smoothing, and two epochs of which the second ran at the decay's "
    "floor":
        lambda: (lambda gpu: gpu["batch_size"] < RECIPES["fast"].batch_size
                 and gpu["learning_rate"] < RECIPES["fast"].learning_rate and not gpu.get("label_smoothing")
                 and gpu["epochs"] == 2 and gpu["decay_epochs"] == 1)(
            snapshot("benchmark-gpu.json")["entries"]["fast-resident"]["recipe"]),
    "mean final accuracy is above `0.990` with its whole 95% interval, and every seed reached it":
        lambda: summary("fast")["accuracy_low"] >= bench_run()["target"] and summary("fast")["share_at_target"] == 1,
    "Its final accuracy is higher than the book's code's, seed by seed, with a paired interval that stays above zero":
        lambda: paired_difference(*(list(per_seed(entry, "final_accuracy").values())
                                    for entry in ("fast", "book"))).low > 0,
    "Every goal of the fast recipe is met":
        lambda: all(met for goal, met in bench_run()["goals"].items() if "fast" in goal),
    "Its fixed run of one epoch takes about a ninth of the book's fit":
        lambda: 1 / 10 < summary("fast")["ratios"]["fit_seconds"] < 1 / 8
        and set(per_seed("fast", "epochs").values()) == {1},
    "It trains the book's architecture, with the same":
        lambda: summary("fast")["parameters"] == summary("book")["parameters"],
    "(b) missed its goal of staying within 1.05 times the book's time":
        lambda: not bench_run()["goals"][f"train.py/book fit <= {TRAIN_PY_GOAL}"],
    "the paired difference of their fit times has a 95% interval above zero":
        lambda: (lambda one, two: paired_difference([one[k] for k in sorted(one)], [two[k] for k in sorted(one)]).low > 0)(
            per_seed("book-train-py", "fit_seconds"), per_seed("book", "fit_seconds")),
    "Most of that comes from the input pipeline, not from (b)'s own code":
        lambda: len(slow_epochs("book-train-py")) > len(slow_epochs("book"))
        and quick_epochs_ratio() < 1 + QUICK_EPOCHS_WITHIN,
    "as their identical accuracies show":
        lambda: per_seed("book-train-py", "final_accuracy") == per_seed("book", "final_accuracy"),
    "the median of (b)'s is within 5% of the median of (a)'s": lambda: abs(quick_epochs_ratio() - 1) < QUICK_EPOCHS_WITHIN,
    "There is no dip: in both rounds, every batch size trains more images per second than the one before it":
        lambda: dips(bench_run()["batch_curve"]) == [] and all(
            list(s.values()) == sorted(s.values()) and len(set(s.values())) == len(s) for s in curve_speeds().values()),
    "each doubling gains less than the one before":
        lambda: curve_gains()[2] < curve_gains()[1] and curve_gains()[3] < curve_gains()[2],
    "the validation search found that larger batches, with fewer steps in an epoch, cost more accuracy than their "
    "speed wins back":
        lambda: all(row["estimated_seconds"] > searched()[1]["estimated_seconds"] for row in searched()[0]
                    if row["qualifies"] and row["candidate"]["batch_size"] > chosen()["batch_size"]),
    "trains the fast recipe for six whole epochs through each of three pipelines, in three interleaved rounds":
        lambda: (lambda runs: len(runs) == 9 and {len(p["epoch_seconds"]) for p in runs} == {6}
                 and {p["round"] for p in runs} == {1, 2, 3} and len({p["pipeline"] for p in runs}) == 3)(
            bench_run()["pipelines"]),
    "the epochs after the first fall into two groups, with nothing in between":
        lambda: two_groups(epochs_after_the_first()["keras"]) is not None,
    "The recipe's own pipeline with autotuning on splits the same way":
        lambda: two_groups(epochs_after_the_first()["gather-autotuned"]) is not None,
    "The recipe's pipeline, with autotuning off, has no slow epoch":
        lambda: max(epochs_after_the_first()["gather"])
        < min(two_groups(epochs_after_the_first()[name])[1][0] for name in ("keras", "gather-autotuned")),
    "both autotuned pipelines are slower than the one without autotuning, with 95% intervals":
        lambda: all(unpaired_difference(epochs_after_the_first()[name], epochs_after_the_first()["gather"]).low > 0
                    for name in ("keras", "gather-autotuned")),
    "On this one they matter more than the probes' noise": lambda: probe_ratio("without oneDNN") < 1 / NOISE,
    "the probe with one step per call came out within the probes' noise of the recipe":
        lambda: 1 / NOISE < probe_ratio("one step per call") < NOISE,
    "on this CPU, XLA's convolutions are slower than TensorFlow's":
        lambda: probe_ratio("with XLA (jit_compile=True)") < 1 / NOISE,
    "This run's processor has AVX512-BF16, so its fast recipe trained in bfloat16, and the probe that asks for "
    "bfloat16 repeats the first line":
        lambda: bench_run()["machine"]["native_bfloat16"]
        and set(per_seed("fast", "policy").values()) == {"mixed_bfloat16"}
        and probe_setup("fast recipe") == probe_setup("in mixed bfloat16")
        and 1 / NOISE < probe_ratio("in mixed bfloat16") < NOISE,
    "The probe in float32 runs at about three quarters of the recipe's speed":
        lambda: 0.7 < probe_ratio("in float32") < 0.8,
    "A larger batch computes faster: at 128 the recipe trains":  # the recipe's batch against the book's, every round
        lambda: all(speeds[RECIPES["fast"].batch_size] > speeds[RECIPES["book"].batch_size]
                    for speeds in curve_speeds().values()),
    "a fifth of the images. That is most of the time saved":  # five epochs to one saves more than half of the saving
        lambda: (lambda book, fast: book * (1 - 1 / 5) > (book - fast) / 2)(
            summary("book")["fit_seconds"], summary("fast")["fit_seconds"]) and one_epoch_where_the_book_trains_five(),
    "the fast recipe wins first by training one epoch where the book's trains five, and then by computing faster":
        lambda: one_epoch_where_the_book_trains_five()
        and min(per_seed("fast", "images_per_second").values()) > max(per_seed("book", "images_per_second").values()),
}.items()})


# The check is a parameter too, so that tests/conftest.py marks slow the sentences that need a trained model.
@pytest.mark.parametrize("doc, sentence, stands", [(*key, stands) for key, stands in COMPARISONS.items()],
                         ids=[f"{doc}-{sentence}" for doc, sentence in COMPARISONS])
def test_comparative_sentence_stands_on_the_stored_results(doc, sentence, stands):
    assert says(doc, ROOT, sentence), f"{doc} no longer says: {sentence!r}"
    assert stands(), f"{doc}: the stored results do not support {sentence!r}" + \
        (" (rerun `make bench` and rewrite the sentence)" if doc == BENCH else "")


# Sentences with a comparative word that compare nothing measured here, each with the reason.
NOT_COMPARISONS = {
    CHECKS: ["Any sentence that says *better*, *beats*",  # describes the check itself
             "A sentence saying that one model beats another stands only if"],
    FIRST: ["Which one does better on the test set?"],  # exercise 4's question; its solution's answer is checked
    CONV: ["it *generalizes* better"],  # the argument for convolutions; the first chapter measures the outcome
    DETAIL: ['and the honest verdict is "no clear difference"'],  # defines the phrase
}


@pytest.mark.parametrize("doc", PAGES)
def test_every_comparative_sentence_is_checked(doc):
    """A sentence with "better", "beats", "no clear difference"... needs an entry in COMPARISONS."""
    checked = [sentence for (where, sentence) in COMPARISONS if where == doc] + NOT_COMPARISONS.get(doc, [])
    unchecked = unchecked_comparisons(doc, ROOT, checked)
    assert not unchecked, "comparative sentences that no test checks (add them to COMPARISONS):\n" + "\n".join(unchecked)


def test_pooling_sentences_fail_when_the_stored_runs_say_otherwise(monkeypatch):
    stored, max_runs = snapshot(SMALL), pooling_runs(SMALL, "max")
    for pooling, runs, sentence in (
            ("average", max_runs, "Max pooling beats average pooling and strided convolutions"),  # as good as max
            ("none", [value + 0.01 for value in max_runs],  # a point above max pooling with every seed
             "Between max pooling and no pooling at all, the experiment finds no clear difference")):
        changed = {**stored, "results": [{**row, "test_accuracy": runs} if row["pooling"] == pooling else row
                                         for row in stored["results"]]}
        monkeypatch.setattr(sys.modules[__name__], "snapshot", lambda name: changed if name == SMALL else stored)
        assert not COMPARISONS[DETAIL, sentence]()
