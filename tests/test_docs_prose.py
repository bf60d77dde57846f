"""Numbers in the pages' prose come from the code: each is a claim checked here, or quoted with a reason.

Change an architecture and the sentence that states its parameter count fails here, naming the
sentence; add a number to the prose without a claim and the scan fails, naming the number.
"""

from __future__ import annotations

import functools
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Callable

import pytest
from numpy import format_float_positional

from convnets.benchmark.flops import forward_flops
from convnets.benchmark.report import dips
from convnets.stats import accuracy_difference, mean_interval, paired_difference, unpaired_difference
from helpers import ROOT
from pagetest.prose import Claim, check, prose, unchecked_numbers


@functools.cache
def model(name: str):
    """One of the book's models, or a variant the chapters discuss, built once."""
    import keras
    from keras import layers

    from convnets import models

    if name in models.MODELS:
        return models.MODELS[name]()
    if name.startswith("pooling-"):
        return models.build_pooling_variant(name.removeprefix("pooling-"))
    first_kernel, padding, pools = {  # the convnet with one change: the exercises' and chapters' variants
        "first-5x5": (5, "valid", (True, True)),
        "same": (3, "same", (True, True)),
        "one-pool": (3, "valid", (True, False)),
    }[name]
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters, kernel, pool in ((32, first_kernel, pools[0]), (64, 3, pools[1]), (128, 3, False)):
        x = layers.Conv2D(filters, kernel, padding=padding, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x) if pool else x
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def convs(name: str) -> list:
    import keras

    return [layer for layer in model(name).layers if isinstance(layer, keras.layers.Conv2D)]


def shape(name: str, index: int) -> tuple:
    """The output shape of layer `index` (0 is the input) of a model, without the batch axis."""
    return tuple(model(name).layers[index].output.shape[1:])


def last_map(name: str) -> tuple:
    return shape(name, -3)


def dense_params(name: str) -> int:
    return model(name).layers[-1].count_params()


def receptive(name: str) -> list[int]:
    from convnets.shapes import receptive_fields, window_layers

    return receptive_fields([(k, s) for _, k, s in window_layers(model(name))])


@functools.cache
def mnist():
    from convnets.data import load_mnist

    return load_mnist()


FIRST_CHAPTER_FIT = "{}.fit(train_images, train_labels, epochs=5, batch_size=64)"
FIRST_CHAPTER_SUBSET = 5000  # the training images of the first chapter's exercise 4
FIRST_CHAPTER_SUBSET_FIT = "fresh.fit(train_images[:5000], train_labels[:5000], epochs=5, batch_size=64, verbose=0)"


def measured_accuracy(name: str) -> float:
    return first_chapter_run(name)[0]


@functools.cache
def first_chapter_run(name: str, images: int | None = None) -> tuple[float, float]:
    """The test accuracy and training seconds of a model as code/notebooks/first_convnet.py trains it (on its
    first `images` training images: exercise 4): the same architecture, compile settings, data and fit
    arguments, so the same cache entry as the page's `model.fit` (trained once per session if the page has not)."""
    from convnets.cache import fit_or_load
    from convnets.models import MODELS
    from convnets.training import prepare_images

    script = (ROOT / "code" / "notebooks" / "first_convnet.py").read_text()
    variable = {"convnet": "model", "dense": "dense"}[name]
    fit = FIRST_CHAPTER_SUBSET_FIT if images else FIRST_CHAPTER_FIT.format(variable)
    assert fit in script and (images in (None, FIRST_CHAPTER_SUBSET)), "the first chapter trains otherwise: update this test"
    (train_images, train_labels), (test_images, test_labels) = mnist()
    net = MODELS[name]()
    net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = fit_or_load(net, prepare_images(train_images)[:images], train_labels[:images], epochs=5, batch_size=64,
                          verbose=0)
    return net.evaluate(prepare_images(test_images), test_labels, verbose=0)[1], history.seconds


def snapshot(name: str) -> dict:
    return json.loads((ROOT / "snaps" / name).read_text())


def conv_formula(layer, channels: int) -> tuple:
    k = layer.kernel_size[0]
    return k, k, channels, layer.filters, layer.count_params()


def size(n: int) -> tuple:
    return n, n


ACCURACY = 0.005  # how far a percentage in the prose may be from this session's training run
FIRST, CONV, PAD, STRIDES, POOL, HOME = ("docs/first-convnet.md", "docs/convolution.md", "docs/padding.md",
                                         "docs/strides.md", "docs/max-pooling.md", "docs/index.md")

INVARIANCE = "docs/invariance.md"
DETAIL = "docs/experiments.md"  # the appendix "The experiments in detail"
CHECKS = "docs/checks.md"

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
    Claim(FIRST, "(5·5·3 + 1)·16 = {}", lambda: model_free_conv_params(16, 5, 3)),
    Claim(FIRST, "The first map is {}×{} instead of {}×{}",
          lambda: (*shape("first-5x5", 1)[:2], *shape("convnet", 1)[:2])),
    Claim(FIRST, "the last map is {}×{}×{} again, so `Flatten` still gives {} values",
          lambda: (*last_map("first-5x5"), shape("first-5x5", -2)[0])),
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
          "({}·{}·{} + 1)·{} = {}",
          lambda: (128, 32, model_free_conv_params(32, 1, 128), 3, 3, 128, 32, model_free_conv_params(32, 3, 128))),
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
          lambda: (*last_map("same"), shape("same", -2)[0], shape("convnet", -2)[0])),
    Claim(PAD, "28 − 10·2 = {}", lambda: ten_valid_convs(28)),
    Claim(PAD, "so the `Dense` layer has {} parameters instead of {}",
          lambda: (dense_params("same"), dense_params("convnet"))),
    Claim(PAD, "A pixel in the middle feeds {} outputs; a corner pixel feeds {}",
          lambda: (windows_over(5, 3, 0, 2), windows_over(5, 3, 0, 0)), fmt="{}"),
    Claim(PAD, "With one ring of zeros a corner pixel feeds {} outputs, still against {}",
          lambda: (windows_over(5, 3, 1, 0), windows_over(5, 3, 1, 2)), fmt="{}"),
    Claim(PAD, "a corner pixel in {} against {} for a middle pixel without padding, and in {} against {} with",
          lambda: (windows_over(5, 3, 0, 0), windows_over(5, 3, 0, 2), windows_over(5, 3, 1, 0),
                   windows_over(5, 3, 1, 2)), fmt="{}"),
    Claim(STRIDES, "The last map is a little larger, {}×{}×{} = {} values, so the `Dense` layer has {} "
          "parameters instead of {}", lambda: (*last_map("pooling-strided"), shape("pooling-strided", -2)[0],
                                               dense_params("pooling-strided"), dense_params("convnet"))),
    Claim(STRIDES, "grows from {}×{} to {}×{} and {}×{}",
          lambda: sum((size(dilated_window(3, d)) for d in (1, 2, 3)), ())),
    Claim(STRIDES, "with dilations 1, 2 and 4 see {}×{} pixels of the input, against {}×{} with three ordinary 3×3",
          lambda: (*size(dilated_stack_field((1, 2, 4))), *size(dilated_stack_field((1, 1, 1))))),
    Claim(STRIDES, "padding one row on each side gives the same {}×{} shape",
          lambda: size(output_size_of(28, 3, 2, "same"))),
    Claim(POOL, "{}×{} becomes {}×{}, and {}×{} becomes {}×{}",
          lambda: (*shape("convnet", 1)[:2], *shape("convnet", 2)[:2], *shape("convnet", 3)[:2],
                   *shape("convnet", 4)[:2])),
    Claim(POOL, "from {}×{} to {}×{}", lambda: (*shape("no-max-pool", 1)[:2], *last_map("no-max-pool")[:2])),
    Claim(POOL, "Its units see only a {}×{} region of the input. A {}×{} window of a {}×{} digit",
          lambda: (*size(receptive("no-max-pool")[-1]), *size(receptive("no-max-pool")[-1]),
                   *shape("convnet", 0)[:2])),
    Claim(POOL, "with pooling, the third layer sees {}×{} pixels", lambda: size(receptive("convnet")[-1])),
    Claim(POOL, "Two stacked 3×3 convolutions see a {}×{} window", lambda: size(receptive_of(((3, 1), (3, 1))))),
    Claim(POOL, "3·3 + 3·3 = {} weights per pair of input and output channels instead of 5·5 = {}",
          lambda: (2 * kernel_weights(3), kernel_weights(5))),
    Claim(POOL, "The `Dense` layer alone has {} parameters, against {} in the pooled model",
          lambda: (dense_params("no-max-pool"), dense_params("convnet"))),
    Claim(POOL, "evaluated on the {} test images",
          lambda: snapshot("pooling_experiment_cpu.json")["settings"]["test_images"]),
    Claim(DETAIL, "evaluated on the {} test images",
          lambda: snapshot("pooling_experiment_cpu.json")["settings"]["test_images"]),
    Claim(POOL, "({}×{} pixels for the third layer here)", lambda: size(receptive("no-max-pool")[-1])),
    Claim(POOL, "becomes huge ({} parameters here)", lambda: dense_params("no-max-pool")),
    Claim(POOL, "{}, {}, {} and {} pixels wide, so the last one has {}·{}·{} = {} values and the `Dense` layer "
          "({} + 1)·10 = {} parameters",
          lambda: (*(shape("one-pool", i)[0] for i in (1, 2, 3, 4)), *last_map("one-pool"),
                   shape("one-pool", -2)[0], shape("one-pool", -2)[0], dense_params("one-pool"))),
    Claim(POOL, "On a {}×{} map both give {}×{}", lambda: (*shape("convnet", 1)[:2], *size(pooled_twice(26)))),
    Claim(INVARIANCE, "centered in their {}×{} images", lambda: mnist()[0][0].shape[1:]),
    Claim(INVARIANCE, "we put each {}×{} digit on a blank {}×{} canvas. A centered digit has a margin of {} pixels",
          lambda: (*mnist()[0][0].shape[1:], *size(canvas_size()), (canvas_size() - 28) // 2)),
    Claim(INVARIANCE, "On {}×{} digits, `Flatten` gives {}×{}×{} = {} values; global average pooling gives {}, "
          "whatever",
          lambda: (*shape("convnet", 0)[:2], *last_map("convnet"), shape("convnet", -2)[0],
                   global_pooling_dense(28)[0])),
    Claim(INVARIANCE, "On the canvas, the book's convnet ends in a {}×{}×{} map, and its `Dense` layer has {} "
          "parameters; the global-pooling convnet's still has {}",
          lambda: (*canvas_layer("convnet", -3), canvas_dense("convnet"), canvas_dense("global-pooling"))),
    Claim(INVARIANCE, "placed at the center of the {}×{} canvas",
          lambda: size(snapshot("translation_experiment.json")["settings"]["canvas"])),
    Claim(INVARIANCE, "for {} epochs instead of the book's {}",
          lambda: (snapshot("translation_experiment.json")["settings"]["epochs"], recipe_epochs("book"))),
    Claim(INVARIANCE, "with {} seeds, and is tested on the {} test digits moved by 0, 1, ..., {} pixels",
          lambda: tuple(snapshot("translation_experiment.json")["settings"][key]
                        for key in ("seeds", "test_images")) + (max_shift(),)),
    Claim(DETAIL, "placed at the center of a {}×{} canvas",
          lambda: size(snapshot("translation_experiment.json")["settings"]["canvas"])),
    Claim(DETAIL, "with {} seeds. Each trained model is then tested on the {} test digits moved by 0, 1, …, {} pixels",
          lambda: tuple(snapshot("translation_experiment.json")["settings"][key]
                        for key in ("seeds", "test_images")) + (max_shift(),)),
    Claim(DETAIL, "for {} epochs instead of {}",
          lambda: (snapshot("translation_experiment.json")["settings"]["epochs"], recipe_epochs("book"))),
    Claim(DETAIL, "The global-pooling convnet's three seeds disagree at 6 pixels, from {} to {}",
          lambda: (min(accuracies("global-pooling", 6)), max(accuracies("global-pooling", 6))), fmt="{:.1%}"),
    Claim(INVARIANCE, "after global average pooling, it stays at {}", lambda: canvas_dense("global-pooling")),
    Claim(INVARIANCE, "the global-pooling convnet last: {} against {} after",
          lambda: (mean("convnet", 0), mean("global-pooling", 0)), fmt="{:.1%}"),
    Claim(INVARIANCE, "after {} epochs. Then the digits move",
          lambda: snapshot("translation_experiment.json")["settings"]["epochs"]),
    Claim(INVARIANCE, "takes the dense network from {} to {}", lambda: (mean("dense", 0), mean("dense", 1)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "it scores {} at 3 pixels and {} at 6", lambda: (mean("convnet", 3), mean("convnet", 6)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "{} against {} at 3 pixels", lambda: (mean("global-pooling", 3), mean("convnet", 3)),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "still falls with each pixel, to {} at 6 pixels", lambda: mean("global-pooling", 6),
          fmt="{:.1%}"),
    Claim(INVARIANCE, "below the {} of a random guess", lambda: 1 / model("convnet").layers[-1].units, fmt="{:.0%}"),
    Claim(INVARIANCE, "and its {} interval as a band", lambda: interval_level(), fmt="{:.0%}"),
]


def model_free_conv_params(filters: int, kernel: int, channels: int) -> int:
    from keras import layers

    layer = layers.Conv2D(filters, kernel)
    layer.build((None, 32, 32, channels))
    return layer.count_params()


def ten_valid_convs(n: int) -> int:
    from convnets.shapes import output_size

    for _ in range(10):
        n = output_size(n, 3)
    return n


def dilated_window(k: int, d: int) -> int:
    """The width of the input window of one output of a Keras Conv2D with dilation_rate=d."""
    import numpy as np
    from keras import layers

    return 28 - layers.Conv2D(1, k, dilation_rate=d)(np.zeros((1, 28, 28, 1), "float32")).shape[1] + 1


def dilated_stack_field(dilations: tuple[int, ...]) -> int:
    """The receptive field of a stack of 3×3 convolutions with these dilations, each counted as its whole window."""
    from convnets.shapes import receptive_fields

    return receptive_fields([(dilated_window(3, d), 1) for d in dilations])[-1]


def windows_over(n: int, k: int, pad: int, pixel: int) -> int:
    """How many k×k windows (stride 1) of an n×n input padded by `pad` contain its pixel (pixel, pixel), by Keras:
    a convolution of ones over an image that is 1 at that pixel only, summed over the outputs."""
    import keras
    import numpy as np

    image = np.zeros((1, n, n, 1), "float32")
    image[0, pixel, pixel, 0] = 1
    padded = keras.layers.ZeroPadding2D(pad)(image)
    conv = keras.layers.Conv2D(1, k, use_bias=False, kernel_initializer="ones")
    return int(np.asarray(conv(padded)).sum())


def output_size_of(n: int, k: int, s: int, padding: str) -> int:
    from convnets.shapes import output_size

    return output_size(n, k, s, padding)


def pooled_twice(n: int) -> int:
    from convnets.shapes import output_size

    twice, once = output_size(output_size(n, 2, 2), 2, 2), output_size(n, 4, 4)
    assert twice == once
    return once


# The convolution explorer's page: what its suggested settings give, by the project's formulas and Keras.
EXPLORER = "docs/explorer.md"


def explorer_opening() -> int:
    """Output side of the explorer's opening setting, n=5, k=3, s=2, "same", which pads one row on each side."""
    from convnets.shapes import output_size, same_padding

    assert same_padding(5, 3, 2) == (1, 1)
    return output_size(5, 3, 2, "same")


def dilated_valid(n: int, k: int, d: int) -> tuple[int, int]:
    """Span of a k-tap window with dilation d, and Keras's "valid" output side on an n×n input."""
    import keras

    return d * (k - 1) + 1, keras.layers.Conv2D(1, k, dilation_rate=d).compute_output_shape((1, n, n, 1))[1]


def same_against_explicit(n: int, k: int, s: int) -> tuple[int, int, int]:
    """Output side and "same" padding (before, after); explicit padding 1 gives that output side too."""
    from convnets.shapes import output_size, same_padding

    assert output_size(n + 2, k, s) == output_size(n, k, s, "same")
    return output_size(n, k, s, "same"), *same_padding(n, k, s)


def _same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    from convnets.shapes import same_padding

    return same_padding(n, k, s)


CLAIMS += [
    Claim(EXPLORER, "the output is {} wide and the padding is one row on each side", explorer_opening, fmt="{}"),
    Claim(EXPLORER, "Change the kernel to $k = 2$ and the padding becomes {} before and {} after",
          lambda: _same_padding(5, 2, 2), fmt="{}"),
    Claim(EXPLORER, "$k = 3$ and $s = 2$, Keras pads {} rows before and {} after", lambda: _same_padding(28, 3, 2),
          fmt="{}"),
    Claim(EXPLORER, "each window spans {} cells and the output is {} wide", lambda: dilated_valid(7, 3, 2), fmt="{}"),
    Claim(EXPLORER, "At $n = 6$ both still give {} outputs, but `\"same\"` pads {} before and {} after",
          lambda: same_against_explicit(6, 3, 2), fmt="{}"),
]

# The pooling experiment's numbers, from its stored runs (snaps/pooling_experiment*.json).
CLAIMS += [
    Claim(DETAIL, "So the results come with {} confidence intervals", lambda: mean_interval.__defaults__[0],
          fmt="{:.0%}"),
    Claim(DETAIL, "JAX backend, with {} seeds per model", lambda: snapshot(FULL)["settings"]["seeds"], fmt="{}"),
    Claim(DETAIL, "a run on the whole training set with the book's {} epochs",
          lambda: snapshot(FULL)["settings"]["epochs"], fmt="{}"),
    Claim(DETAIL, "each run trains on the first {} training images for three epochs, with {} seeds per model",
          lambda: (snapshot(SMALL)["settings"]["training_images"], snapshot(SMALL)["settings"]["seeds"])),
    Claim(POOL, "each run trains on {} training images for {} epochs",
          lambda: (snapshot(SMALL)["settings"]["training_images"], snapshot(SMALL)["settings"]["epochs"])),
    Claim(POOL, "each version trains with {} seeds", lambda: snapshot(SMALL)["settings"]["seeds"], fmt="{}"),
    Claim(POOL, "seed {}, for instance, gave the worst run of each model that downsamples",
          lambda: common_worst_seed(), fmt="{}"),
    Claim(POOL, "with the whole training set and {} epochs but only three seeds per model",
          lambda: snapshot(FULL)["settings"]["epochs"], fmt="{}"),
    Claim(POOL, "by {} and {} points on average",
          lambda: (-versus_max("average").mean, -versus_max("strided").mean), fmt="{:.1f}"),
    Claim(DETAIL, "by {} and {} points on average",
          lambda: (-versus_max("average").mean, -versus_max("strided").mean), fmt="{:.1f}"),
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
    Claim(POOL, "In our {}-seed experiment", lambda: snapshot(SMALL)["settings"]["seeds"], fmt="{}"),
    Claim(POOL, "which took {} times longer to train", lambda: median_seconds("none") / median_seconds("max"),
          fmt="{:.0f}"),
    Claim(POOL, "pays in time, {} times longer per run", lambda: median_seconds("none") / median_seconds("max"),
          fmt="{:.0f}"),
]


# The playground page: the network, MNIST's geometry, the published weights and the checks' settings.
PLAYGROUND = "docs/playground.md"


def mnist_box() -> int:
    from playground_fixture import mnist_geometry

    return mnist_geometry(mnist()[0][0][:10_000])[0]


def playground_check(name: str):
    import playground_fixture

    return getattr(playground_fixture, name)


CLAIMS += [
    Claim(PLAYGROUND, "MNIST's digits were not drawn at {}×{}", lambda: mnist()[0][0].shape[1:]),
    Claim(PLAYGROUND, "scaled so that it fits a {}×{} box without changing its proportions, and placed in the {}×{} "
          "frame", lambda: (*size(mnist_box()), *mnist()[0][0].shape[1:])),
    Claim(PLAYGROUND, "The first `Conv2D` layer gives {} maps of {}×{}",
          lambda: (convs("convnet")[0].filters, *shape("convnet", 1)[:2])),
    Claim(PLAYGROUND, "by the third `Conv2D` layer there are {} maps of only {}×{}",
          lambda: (convs("convnet")[2].filters, *last_map("convnet")[:2])),
    Claim(PLAYGROUND, "sees: {}×{} pixels in the first layer, {}×{} after the first pooling, {}×{} in the second "
          "`Conv2D` layer, {}×{} after the second pooling and {}×{} in the third `Conv2D` layer",
          lambda: sum((size(n) for n in receptive("convnet")), ())),
    Claim(PLAYGROUND, "which of the third layer's {} maps light up", lambda: convs("convnet")[2].filters),
    Claim(PLAYGROUND, "`snaps/convnet.weights.bin`, {} numbers as little-endian",
          lambda: snapshot("convnet.json")["parameters"], fmt="{:,}"),
    Claim(PLAYGROUND, "in Node and in Chromium on {} test digits", lambda: playground_check("CHECKED_DIGITS")),
    Claim(PLAYGROUND, "every value must agree within {}, every probability within {}",
          lambda: tuple(format_float_positional(playground_check(name)) for name in ("LAYER_TOLERANCE",
                                                                                      "PROBABILITY_TOLERANCE")), fmt="{}"),
]


# The benchmark page: the validation search and the batch-size curve, as the code defines them.
BENCH = "docs/benchmark.md"


def search_module():
    from convnets.benchmark import search

    return search


def notebook_match(name: str, pattern: str) -> str:
    """The first group of `pattern` in code/notebooks/NAME.py: a number its code uses, as written there."""
    found = re.search(pattern, (ROOT / "code" / "notebooks" / f"{name}.py").read_text(encoding="utf-8"))
    assert found, f"code/notebooks/{name}.py no longer matches {pattern!r}: update this test"
    return found[1]


def bench_script_constant(name: str):
    import bench  # code/bench.py: pytest puts code/ on the path

    return getattr(bench, name)


def keras_default_rate(optimizer: str) -> float:
    import inspect

    import keras

    return inspect.signature(getattr(keras.optimizers, optimizer)).parameters["learning_rate"].default


def report_module():
    from convnets.benchmark import report

    return report


def chosen() -> dict:
    search = search_module()
    return search.choose(search.summarize(snapshot("fast-recipe-search.json")["runs"]))["candidate"]


def fast_recipe():
    from convnets.recipes import RECIPES

    return RECIPES["fast"]


def smoothed_targets() -> tuple[float, float]:
    """What a label-smoothed target puts on the image's class, and on each other class."""
    smoothing = fast_recipe().label_smoothing
    return 1 - smoothing + smoothing / 10, smoothing / 10


CLAIMS += [
    Claim(BENCH, "the final test accuracy with its {} interval", lambda: mean_interval.__defaults__[0], fmt="{:.0%}"),
    Claim(BENCH, "its mean over the seeds with a {} confidence interval", lambda: mean_interval.__defaults__[0],
          fmt="{:.0%}"),
    Claim(BENCH, "Each candidate trains on the first {} training images and is scored on the last {}",
          lambda: (len(mnist()[0][0]) - search_module().VALIDATION_IMAGES, search_module().VALIDATION_IMAGES)),
    Claim(BENCH, "The rule picks batch {}, one epoch, peak rate {}, smoothing {}",
          lambda: (chosen()["batch_size"], chosen()["learning_rate"], chosen()["label_smoothing"]), fmt="{:g}"),
    Claim(BENCH, "In each of the {} pairs of candidates that differ only in their smoothing",
          lambda: len(search_module().candidates()) // len(search_module().LABEL_SMOOTHING)),
    Claim(BENCH, "Batch {} has the shortest epochs", lambda: fastest_epochs_batch()),
    Claim(BENCH, "A winner picked from {} candidates on two seeds each", lambda: len(search_module().candidates())),
    Claim(BENCH, "at batch {} two one-epoch candidates qualify", lambda: chosen()["batch_size"]),
    Claim(BENCH, "With a smoothing of {}, a tenth of the target", lambda: fast_recipe().label_smoothing, fmt="{:g}"),
    Claim(BENCH, "{} for class 7 and {} for each of the others", smoothed_targets, fmt="{:.2f}"),
    Claim(BENCH, "above `0.990` with its whole {} interval", lambda: mean_interval.__defaults__[0], fmt="{:.0%}"),
    Claim(BENCH, "the paired difference of their fit times has a {} interval", lambda: mean_interval.__defaults__[0],
          fmt="{:.0%}"),
    Claim(BENCH, "at batch sizes from {} to {}", lambda: (min(bench_script_constant("BATCH_CURVE")),
                                                          max(bench_script_constant("BATCH_CURVE")))),
    Claim(BENCH, "It trains the book's architecture, with the same {} parameters",
          lambda: snapshot("benchmark-cpu.json")["summaries"]["fast"]["parameters"][0]),
    Claim(BENCH, "staying within {} times the book's time", lambda: report_module().TRAIN_PY_GOAL, fmt="{:g}"),
    Claim(BENCH, "its median fit is {} times (a)'s",
          lambda: snapshot("benchmark-cpu.json")["summaries"]["book-train-py"]["ratios"]["fit_seconds"], fmt="{:.2f}"),
    Claim(BENCH, "more than {} times the median epoch of (a), (b) drew {} slow epochs out of its {} in this run, and "
                 "(a) drew {}",
          lambda: (SLOW_EPOCH, *(len(f(snapshot("benchmark-cpu.json"), "book-train-py")) for f in (slow_epochs, book_epochs)),
                   len(slow_epochs(snapshot("benchmark-cpu.json"), "book"))), fmt="{:g}"),
    Claim(BENCH, "the median of (b)'s is within {}% of the median", lambda: 100 * QUICK_EPOCHS_WITHIN, fmt="{:g}"),
    Claim(BENCH, "From a batch of {} on, each doubling", lambda: bench_script_constant("BATCH_CURVE")[2]),
    Claim(BENCH, "The fast recipe still trains with batches of {}", lambda: fast_recipe().batch_size),
    Claim(BENCH, "{} of the {} take at least {} seconds, the others at most {}",
          lambda: keras_groups(snapshot("benchmark-cpu.json")), fmt="{:g}"),
    Claim(BENCH, "its slowest after the first takes {} seconds",
          lambda: max(epochs_after_the_first(snapshot("benchmark-cpu.json"))["gather"]), fmt="{:.1f}"),
    Claim(BENCH, "without autotuning, with {} intervals (Welch's", lambda: unpaired_difference.__defaults__[0],
          fmt="{:.0%}"),
    Claim(BENCH, "the book's code trains for {} s to a mean final test accuracy of {}, and the fast recipe for {} s "
                 "to {}", lambda: fit_and_accuracy("book") + fit_and_accuracy("fast"), fmt="{}"),
    Claim(BENCH, "at {} the recipe trains {} images per second against {} at the book's {}",
          lambda: (fast_recipe().batch_size, *(f"{curve_medians()[size]:,.0f}" for size in (fast_recipe().batch_size,
                                                                                           book_recipe().batch_size)),
                   book_recipe().batch_size), fmt="{}"),
    Claim(BENCH, "computing faster, {} images per second against the book's {}",
          lambda: tuple(snapshot("benchmark-cpu.json")["summaries"][entry]["images_per_second"]
                        for entry in ("fast", "book")), fmt="{:,.0f}"),
]


def fit_and_accuracy(entry: str) -> tuple[str, str]:
    """An entry's median fit seconds and mean final test accuracy in the stored CPU run, as the page writes them."""
    summary = snapshot("benchmark-cpu.json")["summaries"][entry]
    return f"{summary['fit_seconds']:.2f}", f"{summary['accuracy_mean']:.4f}"


def book_recipe():
    from convnets.recipes import RECIPES

    return RECIPES["book"]


def curve_medians() -> dict[int, float]:
    """The median images per second of the stored batch-size curve, by batch size."""
    from convnets.benchmark.report import batch_medians

    return batch_medians(snapshot("benchmark-cpu.json")["batch_curve"])


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


@pytest.mark.parametrize("page", PAGES)
def test_every_significant_number_in_the_prose_is_checked_or_quoted(page):
    unchecked = unchecked_numbers(page, ROOT, CLAIMS, QUOTED.get(page, []))
    assert not unchecked, "numbers in the prose that no claim checks (add a Claim, or quote them with a reason):\n" \
        + "\n".join(unchecked)


# The benchmark page's comparative sentences, each with what the stored CPU run must show for it to stand.
# The probes are single short runs; the page calls a change of less than a third their noise.
NOISE = 4 / 3


def per_seed(report: dict, entry: str, key: str) -> dict[int, float]:
    return {run["seed"]: run[key] for run in report["runs"] if run["entry"] == entry}


def probe_ratio(report: dict, label: str) -> float:
    """A probe's images per second over the first probe's."""
    speeds = {probe["label"]: probe["steady_images_per_second"] for probe in report["probes"]}
    return speeds[label] / report["probes"][0]["steady_images_per_second"]


def same_probe_setup(report: dict, first: str, second: str) -> bool:
    setups = {probe["label"]: {key: probe[key] for key in ("policy", "onednn", "jit_compile", "batch_size")}
              for probe in report["probes"]}
    return setups[first] == setups[second]


def search_rows() -> tuple[list[dict], dict]:
    search = search_module()
    rows = search.summarize(snapshot("fast-recipe-search.json")["runs"])
    return rows, search.choose(rows)


def search_candidates(**settings) -> list[dict]:
    """The stored search's rows whose candidate has these settings."""
    return [row for row in search_rows()[0] if all(row["candidate"][key] == value for key, value in settings.items())]


def smoothing_pairs() -> list[tuple[dict, dict]]:
    """(without, with) label smoothing: the stored search's rows that differ in nothing else."""
    rows = search_rows()[0]
    key = lambda row: tuple(value for name, value in row["candidate"].items() if name != "label_smoothing")  # noqa: E731
    without = {key(row): row for row in rows if not row["candidate"]["label_smoothing"]}
    return [(without[key(row)], row) for row in rows if row["candidate"]["label_smoothing"]]


def fastest_epochs_batch() -> int:
    per_epoch = search_module().seconds_per_epoch(snapshot("fast-recipe-search.json")["runs"])
    return min(per_epoch, key=per_epoch.get)


def tie_taken_first(batch: int) -> bool:
    qualified = [row for row in search_candidates(batch_size=batch, epochs=1) if row["qualifies"]]
    chosen = search_rows()[1]
    return (len(qualified) == 2 and qualified[0]["estimated_seconds"] == qualified[1]["estimated_seconds"]
            and chosen["candidate"] == qualified[0]["candidate"])


def curve_speeds(report: dict) -> dict[int, dict[int, float]]:
    """images per second by round, then by batch size"""
    speeds: dict[int, dict[int, float]] = {}
    for point in report["batch_curve"]:
        speeds.setdefault(point["round"], {})[point["batch_size"]] = point["images_per_second"]
    return speeds


def fit_paired(report: dict, first: str, second: str):
    one, two = per_seed(report, first, "fit_seconds"), per_seed(report, second, "fit_seconds")
    return paired_difference([one[k] for k in sorted(one)], [two[k] for k in sorted(one)])


SLOW_EPOCH = 1.3  # an epoch of the book's entries is slow past this many times the median epoch of (a)...
QUICK_EPOCHS_WITHIN = 0.05  # ...and the median of (b)'s other epochs is within this share of (a)'s


def book_epochs(report: dict, entry: str) -> list[float]:
    return [seconds for run in report["runs"] if run["entry"] == entry for seconds in run["epoch_seconds"]]


def slow_epochs(report: dict, entry: str) -> list[float]:
    bound = SLOW_EPOCH * statistics.median(book_epochs(report, "book"))
    return [seconds for seconds in book_epochs(report, entry) if seconds > bound]


def quick_epochs_ratio(report: dict) -> float:
    """The median of (b)'s epochs that are not slow over the median of (a)'s."""
    quick = {entry: [s for s in book_epochs(report, entry) if s not in slow_epochs(report, entry)]
             for entry in ("book", "book-train-py")}
    return statistics.median(quick["book-train-py"]) / statistics.median(quick["book"])


def epochs_after_the_first(report: dict) -> dict[str, list[float]]:
    from convnets.benchmark.report import pipeline_epochs

    return pipeline_epochs(report["pipelines"], first=False)


def two_groups(epochs: list[float]) -> tuple[list[float], list[float]] | None:
    """The epochs split at the widest gap between two of them, (quicker, slower), if that gap is wider than
    either group's own spread: two speeds with nothing in between. None otherwise."""
    ordered = sorted(epochs)
    widest = max(range(1, len(ordered)), key=lambda i: ordered[i] - ordered[i - 1])
    quick, slow = ordered[:widest], ordered[widest:]
    gap = slow[0] - quick[-1]
    return (quick, slow) if gap > quick[-1] - quick[0] and gap > slow[-1] - slow[0] else None


def keras_groups(report: dict) -> tuple:
    quick, slow = two_groups(epochs_after_the_first(report)["keras"])
    return len(slow), len(quick) + len(slow), round(slow[0], 1), round(quick[-1], 1)


def curve_gains(report: dict) -> list[float]:
    """The relative gain in images per second of each batch size of the curve over the one before, on the medians."""
    from convnets.benchmark.report import batch_medians

    speeds = list(batch_medians(report["batch_curve"]).values())
    return [later / earlier - 1 for earlier, later in zip(speeds, speeds[1:])]


BENCHMARK_COMPARISONS = {
    "Without label smoothing, no one-epoch candidate reaches the threshold on both seeds; with it, four do":
        lambda r: not any(row["qualifies"] for row in search_candidates(epochs=1, label_smoothing=0.0))
        and sum(row["qualifies"] for row in search_candidates(epochs=1, label_smoothing=0.1)) == 4,
    "the one with smoothing has the higher mean validation accuracy":
        lambda r: all(smoothed["validation_mean"] > plain["validation_mean"] for plain, smoothed in smoothing_pairs()),
    "has the shortest epochs, but none of its one-epoch candidates reaches the threshold":
        lambda r: not any(row["qualifies"] for row in search_candidates(batch_size=fastest_epochs_batch(), epochs=1)),
    "two one-epoch candidates qualify and tie on the estimate, and the rule takes the first":
        lambda r: tie_taken_first(search_rows()[1]["candidate"]["batch_size"]),
    "which it never trains on, with two seeds":
        lambda r: all(row["seeds"] == 2 for row in search_rows()[0]) and search_module().SEARCH_SEEDS == 2,
    "The rule picks batch 128, one epoch":
        lambda r: search_rows()[1]["candidate"]["epochs"] == 1,
    "sample efficiency**: one epoch instead of five":
        lambda r: fast_recipe().epochs == 1 and {run["epochs"] for run in r["runs"] if run["entry"] == "fast"} == {1}
        and r["runs"][0]["epochs"] == 5,
    "at a peak learning rate ten times RMSprop's default":
        lambda r: fast_recipe().optimizer == "adam"
        and fast_recipe().learning_rate == 10 * keras_default_rate("RMSprop"),
    "smaller batches, a lower peak rate, no label smoothing, and two epochs of which the second ran at the decay's "
    "floor":
        lambda r: (lambda gpu: gpu["batch_size"] < fast_recipe().batch_size
                   and gpu["learning_rate"] < fast_recipe().learning_rate and not gpu.get("label_smoothing")
                   and gpu["epochs"] == 2 and gpu["decay_epochs"] == 1)(snapshot("benchmark-gpu.json")["entries"]["fast-resident"]["recipe"]),
    "mean final accuracy is above `0.990` with its whole 95% interval, and every seed reached it":
        lambda r: r["summaries"]["fast"]["accuracy_low"] >= r["target"] and r["summaries"]["fast"]["share_at_target"] == 1,
    "Its final accuracy is higher than the book's code's, seed by seed, with a paired interval that stays above zero":
        lambda r: paired_difference(*(list(per_seed(r, entry, "final_accuracy").values()) for entry in ("fast", "book"))).low > 0,
    "Every goal of the fast recipe is met":
        lambda r: all(met for goal, met in r["goals"].items() if "fast" in goal),
    "Its fixed run of one epoch takes about a ninth of the book's fit":
        lambda r: 1 / 10 < r["summaries"]["fast"]["ratios"]["fit_seconds"] < 1 / 8
        and {run["epochs"] for run in r["runs"] if run["entry"] == "fast"} == {1},
    "It trains the book's architecture, with the same":
        lambda r: r["summaries"]["fast"]["parameters"] == r["summaries"]["book"]["parameters"],
    "(b) missed its goal of staying within 1.05 times the book's time":
        lambda r: not r["goals"][f"train.py/book fit <= {report_module().TRAIN_PY_GOAL}"],
    "the paired difference of their fit times has a 95% interval above zero":
        lambda r: fit_paired(r, "book-train-py", "book").low > 0,
    "Most of that comes from the input pipeline, not from (b)'s own code":
        lambda r: len(slow_epochs(r, "book-train-py")) > len(slow_epochs(r, "book"))
        and quick_epochs_ratio(r) < 1 + QUICK_EPOCHS_WITHIN,
    "as their identical accuracies show":
        lambda r: per_seed(r, "book-train-py", "final_accuracy") == per_seed(r, "book", "final_accuracy"),
    "the median of (b)'s is within 5% of the median of (a)'s":
        lambda r: abs(quick_epochs_ratio(r) - 1) < QUICK_EPOCHS_WITHIN,
    "There is no dip: in both rounds, every batch size trains more images per second than the one before it":
        lambda r: dips(r["batch_curve"]) == []
        and all(list(s.values()) == sorted(s.values()) and len(set(s.values())) == len(s) for s in curve_speeds(r).values()),
    "each doubling gains less than the one before":
        lambda r: curve_gains(r)[2] < curve_gains(r)[1] and curve_gains(r)[3] < curve_gains(r)[2],
    "the validation search found that larger batches, with fewer steps in an epoch, cost more accuracy than their "
    "speed wins back":
        lambda r: all(row["estimated_seconds"] > search_rows()[1]["estimated_seconds"] for row in search_rows()[0]
                      if row["qualifies"] and row["candidate"]["batch_size"] > search_rows()[1]["candidate"]["batch_size"]),
    "trains the fast recipe for six whole epochs through each of three pipelines, in three interleaved rounds":
        lambda r: len(r["pipelines"]) == 9 and {len(p["epoch_seconds"]) for p in r["pipelines"]} == {6}
        and {p["round"] for p in r["pipelines"]} == {1, 2, 3} and len({p["pipeline"] for p in r["pipelines"]}) == 3,
    "the epochs after the first fall into two groups, with nothing in between":
        lambda r: two_groups(epochs_after_the_first(r)["keras"]) is not None,
    "The recipe's own pipeline with autotuning on splits the same way":
        lambda r: two_groups(epochs_after_the_first(r)["gather-autotuned"]) is not None,
    "The recipe's pipeline, with autotuning off, has no slow epoch":
        lambda r: max(epochs_after_the_first(r)["gather"])
        < min(two_groups(epochs_after_the_first(r)[name])[1][0] for name in ("keras", "gather-autotuned")),
    "both autotuned pipelines are slower than the one without autotuning, with 95% intervals":
        lambda r: all(unpaired_difference(epochs_after_the_first(r)[name], epochs_after_the_first(r)["gather"]).low > 0
                      for name in ("keras", "gather-autotuned")),
    "On this one they matter more than the probes' noise":
        lambda r: probe_ratio(r, "without oneDNN") < 1 / NOISE,
    "the probe with one step per call came out within the probes' noise of the recipe":
        lambda r: 1 / NOISE < probe_ratio(r, "one step per call") < NOISE,
    "on this CPU, XLA's convolutions are slower than TensorFlow's":
        lambda r: probe_ratio(r, "with XLA (jit_compile=True)") < 1 / NOISE,
    "This run's processor has AVX512-BF16, so its fast recipe trained in bfloat16, and the probe that asks for "
    "bfloat16 repeats the first line":
        lambda r: r["machine"]["native_bfloat16"]
        and set(per_seed(r, "fast", "policy").values()) == {"mixed_bfloat16"}
        and same_probe_setup(r, "fast recipe", "in mixed bfloat16")
        and 1 / NOISE < probe_ratio(r, "in mixed bfloat16") < NOISE,
    "The probe in float32 runs at about three quarters of the recipe's speed":
        lambda r: 0.7 < probe_ratio(r, "in float32") < 0.8,
    "A larger batch computes faster: at 128 the recipe trains":  # the recipe's batch against the book's, every round
        lambda r: all(speeds[fast_recipe().batch_size] > speeds[book_recipe().batch_size]
                      for speeds in curve_speeds(r).values()),
    "a fifth of the images. That is most of the time saved":  # five epochs to one saves more than half of the saving
        lambda r: (lambda book, fast: book * (1 - 1 / 5) > (book - fast) / 2)(
            r["summaries"]["book"]["fit_seconds"], r["summaries"]["fast"]["fit_seconds"])
        and r["runs"][0]["epochs"] == 5 and fast_recipe().epochs == 1,
    "the fast recipe wins first by training one epoch where the book's trains five, and then by computing faster":
        lambda r: r["runs"][0]["epochs"] == 5 and {run["epochs"] for run in r["runs"] if run["entry"] == "fast"} == {1}
        and min(per_seed(r, "fast", "images_per_second").values())
        > max(per_seed(r, "book", "images_per_second").values()),
}


@pytest.mark.parametrize("sentence", BENCHMARK_COMPARISONS)
def test_benchmark_comparison_stands_on_the_stored_run(sentence):
    text = prose((ROOT / "docs" / "benchmark.md").read_text(encoding="utf-8"))
    assert " ".join(sentence.split()) in text, f"docs/benchmark.md no longer says: {sentence!r}"
    assert BENCHMARK_COMPARISONS[sentence](snapshot("benchmark-cpu.json")), \
        f"snaps/benchmark-cpu.json does not support: {sentence!r} (rerun `make bench` and rewrite the sentence)"


SAMPLE = """# Max pooling

Without pooling, the last feature map has 22·22·128 = **61,952** values per sample,
so the Dense layer alone has 619,530 parameters. The third layer sees a 7×7 window.
The convnet reaches 99.1% test accuracy; the book reports 97.8% for the dense model.

```python
print(712202)
```
"""


@pytest.fixture
def sample(tmp_path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pooling.md").write_text(SAMPLE)
    return tmp_path


def sample_claims(dense_units: int = 10, window: int = 7, accuracy: float = 0.9912) -> list[Claim]:
    return [
        Claim("docs/pooling.md", "has {}·{}·{} = **{}** values", lambda: (22, 22, 128, 22 * 22 * 128)),
        Claim("docs/pooling.md", "the Dense layer alone has {} parameters", lambda: (61952 + 1) * dense_units),
        Claim("docs/pooling.md", "sees a {}×{} window", lambda: (window, window)),
        Claim("docs/pooling.md", "reaches {} test accuracy", lambda: accuracy, fmt="{:.1%}", tolerance=0.005),
    ]


def test_claims_that_match_the_code_pass(sample):
    assert [problem for claim in sample_claims() for problem in check(claim, sample)] == []


def test_a_changed_architecture_fails_the_sentence_that_states_its_parameters(sample):
    problems = check(sample_claims(dense_units=11)[1], sample)
    assert problems == ["docs/pooling.md: 'the Dense layer alone has 619,530 parameters' says 619,530, "
                        "but the code computes 681,483"]
    assert check(sample_claims(window=5)[2], sample) == [
        "docs/pooling.md: 'sees a 7×7 window' says 7, 7, but the code computes 5, 5"]


def test_a_measured_value_passes_within_its_tolerance_and_fails_beyond(sample):
    assert check(sample_claims(accuracy=0.9870)[3], sample) == []
    assert "says 99.1%, but the code computes 94.1%" in check(sample_claims(accuracy=0.9412)[3], sample)[0]


def test_a_claim_whose_sentence_was_rewritten_fails_and_shows_the_closest_sentence(sample):
    claim = Claim("docs/pooling.md", "the Dense layer has {} weights", lambda: 619530)
    problem, = check(claim, sample)
    assert "is no longer on the page; the closest is 'Without pooling, the last feature map" in problem


def test_a_number_no_claim_covers_is_reported_and_quoting_it_clears_it(sample):
    unchecked = unchecked_numbers("docs/pooling.md", sample, sample_claims(), [])
    assert [line.split(" in ")[0] for line in unchecked] == ["docs/pooling.md: '97.8%'"]
    assert unchecked_numbers("docs/pooling.md", sample, sample_claims(), ["the book reports 97.8%"]) == []
    assert len(unchecked_numbers("docs/pooling.md", sample, [], [])) == 6  # 22·22·128 and 5 more


# --- Shifted digits (docs/invariance.md): the canvas models, and the translation experiment's comparisons ---

def canvas_size() -> int:
    from convnets.shifts import CANVAS

    return CANVAS


def canvas_layer(name: str, index: int) -> tuple:
    """The output shape of layer `index` of a translation-experiment model on the canvas."""
    from convnets.models import CANVAS_MODELS

    return tuple(CANVAS_MODELS[name](canvas_size()).layers[index].output.shape[1:])


def canvas_dense(name: str) -> int:
    from convnets.models import CANVAS_MODELS

    return CANVAS_MODELS[name](canvas_size()).layers[-1].count_params()


def global_pooling_dense(size: int) -> tuple:
    """The inputs and parameters of the last Dense layer of the global-pooling convnet on size×size images."""
    from convnets.models import build_global_pooling_convnet

    dense = build_global_pooling_convnet(size).layers[-1]
    return dense.input.shape[-1], dense.count_params()


def interval_level() -> float:
    """The confidence level of convnets.stats.mean_interval, which the page's table and figure use."""
    import inspect

    from convnets.stats import mean_interval

    return inspect.signature(mean_interval).parameters["level"].default


def recipe_epochs(name: str) -> int:
    from convnets.recipes import RECIPES

    return RECIPES[name].epochs


def max_shift() -> int:
    return snapshot("translation_experiment.json")["settings"]["shifts"][-1]


def accuracies(model: str, shift: int) -> list[float]:
    """A model's test accuracy, one per seed, on the test digits shifted by `shift` pixels."""
    record = snapshot("translation_experiment.json")
    row = next(row for row in record["results"] if row["model"] == model)
    return row["accuracy_by_shift"][record["settings"]["shifts"].index(shift)]


def beats(first: list[float], second: list[float]) -> bool:
    """`first` is higher than `second`: the 95% interval of their difference over paired seeds is above 0."""
    return paired_difference(first, second).low > 0


def no_clear_difference(first: list[float], second: list[float]) -> bool:
    """The 95% interval of the difference over paired seeds contains 0."""
    return not paired_difference(first, second).excludes_zero()


def mean(model: str, shift: int) -> float:
    return sum(accuracies(model, shift)) / len(accuracies(model, shift))


# The comparative sentences of docs/invariance.md, each with what the stored experiment must show for it to stand.
def above_chance(model: str, shift: int) -> bool:
    """Better than a random guess among 10 classes: the 95% interval of the mean over seeds is above 10%."""
    return mean_interval(accuracies(model, shift)).low > 0.1


def below_chance(model: str, shift: int) -> bool:
    return mean_interval(accuracies(model, shift)).high < 0.1


def shifts() -> list[int]:
    return snapshot("translation_experiment.json")["settings"]["shifts"]


def test_a_comparison_needs_a_difference_resolved_over_the_seeds():
    assert beats([0.92, 0.93, 0.94], [0.90, 0.91, 0.92])
    assert not beats([0.92, 0.90, 0.94], [0.91, 0.92, 0.90])  # higher on average, but the interval holds 0
    assert no_clear_difference([0.92, 0.90, 0.94], [0.91, 0.92, 0.90])
    assert not no_clear_difference([0.92, 0.93, 0.94], [0.90, 0.91, 0.92])


# Every comparative sentence of the chapters ("X beats Y", "no clear difference"), with what the stored results
# must show for it to stand. Differences get 95% intervals (convnets.stats): a sentence that says one thing is
# higher or lower stands only if the interval of the difference excludes 0, one that says "no clear
# difference" only if it contains 0. The benchmark page's sentences are in BENCHMARK_COMPARISONS above.
def convnet_beats_dense() -> bool:
    return accuracy_difference(measured_accuracy("convnet"), measured_accuracy("dense"),
                               len(mnist()[1][0])).low > 0


def subset_gap_exceeds_full() -> bool:
    """The first chapter's exercise 4: on 5,000 training images the convnet beats the dense network, by more
    than on the full training set (the two 95% intervals of the differences do not overlap)."""
    def gap(images):
        return accuracy_difference(first_chapter_run("convnet", images)[0], first_chapter_run("dense", images)[0],
                                   len(mnist()[1][0]))

    return gap(FIRST_CHAPTER_SUBSET).low > max(0, gap(None).high)


def pooling_runs(name: str, pooling: str) -> list[float]:
    """The test accuracies of one downsampling, one per seed, in snaps/`name`."""
    return pooling_row(name, pooling)["test_accuracy"]


FULL, SMALL = "pooling_experiment.json", "pooling_experiment_cpu.json"
POOLINGS = ("max", "average", "strided", "none")


def pooling_row(name: str, pooling: str) -> dict:
    return next(row for row in snapshot(name)["results"] if row["pooling"] == pooling)


def percent(values: list[float]) -> list[float]:
    return [100 * value for value in values]


def train_minus_test(pooling: str) -> list[float]:
    """The gap between training (last epoch) and test accuracy, in points, one per seed of the CPU run."""
    row = pooling_row(SMALL, pooling)
    return [100 * (train - test) for train, test in zip(row["train_accuracy"], row["test_accuracy"])]


def median_seconds(pooling: str) -> float:
    return statistics.median(pooling_row(SMALL, pooling)["seconds"])


def versus_max(pooling: str, paired: bool = True):
    difference = paired_difference if paired else unpaired_difference
    return difference(percent(pooling_runs(SMALL, pooling)), percent(pooling_runs(SMALL, "max")))


def common_worst_seed() -> int | None:
    """The seed (runs are seeds 1..N, in order) that gave the lowest test accuracy of max pooling, average pooling
    and strided convolutions alike in the CPU run; None when their worst seeds differ."""
    worst = {min(range(len(runs)), key=runs.__getitem__) + 1
             for runs in (pooling_runs(SMALL, pooling) for pooling in POOLINGS[:3])}
    return worst.pop() if len(worst) == 1 else None


def receptive_of(windows) -> int:
    from convnets.shapes import receptive_fields

    return receptive_fields(list(windows))[-1]


def kernel_weights(k: int) -> int:
    """The weights of one k×k convolution from one channel to one, as Keras counts them (no bias)."""
    import keras

    conv = keras.layers.Conv2D(1, k, use_bias=False)
    conv.build((None, 28, 28, 1))
    return conv.count_params()


COMPARISONS: dict[tuple[str, str], Callable[[], bool]] = {
    (FIRST, "We will see that a small convnet does better"): convnet_beats_dense,
    (CONV, "The convnet of the [previous chapter](first-convnet.md) beat a dense network"): convnet_beats_dense,
    (FIRST, "Why does the convnet generalize so much better?"): convnet_beats_dense,
    (FIRST, "On MNIST the small convnet beats the dense baseline"): convnet_beats_dense,
    (FIRST, "The convnet makes fewer than half as many mistakes"):
        lambda: convnet_beats_dense() and 1 - measured_accuracy("convnet") < (1 - measured_accuracy("dense")) / 2,
    (FIRST, "The convnet does better, and by more than on the full training set"): subset_gap_exceeds_full,
    (DETAIL, "Max pooling has the highest mean"):
        lambda: max(POOLINGS, key=lambda p: statistics.fmean(pooling_runs(FULL, p))) == "max",
    (DETAIL, "between max pooling and each of the other three this run finds no clear difference"):
        lambda: all(no_clear_difference(pooling_runs(FULL, p), pooling_runs(FULL, "max")) for p in POOLINGS[1:]),
    (DETAIL, "Max pooling beats average pooling and strided convolutions"):
        lambda: all(beats(pooling_runs(SMALL, "max"), pooling_runs(SMALL, p)) for p in ("average", "strided")),
    (POOL, "Compared seed by seed, max pooling beat average pooling and strided convolutions"):
        lambda: all(beats(pooling_runs(SMALL, "max"), pooling_runs(SMALL, p)) for p in ("average", "strided")),
    (DETAIL, "Between max pooling and no pooling at all, the experiment finds no clear difference"):
        lambda: no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (POOL, "Between max pooling and no pooling, the experiment finds no clear difference in accuracy"):
        lambda: no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (POOL, "the model without pooling pays in time"):
        lambda: all(none > pooled for none, pooled in zip(pooling_row(SMALL, "none")["seconds"],
                                                           pooling_row(SMALL, "max")["seconds"]))
        and no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (DETAIL, "the model without pooling pays in time, not in accuracy"):
        lambda: all(none > pooled for none, pooled in zip(pooling_row(SMALL, "none")["seconds"],
                                                           pooling_row(SMALL, "max")["seconds"]))
        and no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (DETAIL, "The model without pooling fits its training images best"):
        lambda: all(beats(pooling_row(SMALL, "none")["train_accuracy"], pooling_row(SMALL, p)["train_accuracy"])
                    for p in POOLINGS[:3]),
    (DETAIL, "its gap between training and test accuracy is larger than that of every other model"):
        lambda: all(beats(train_minus_test("none"), train_minus_test(p)) for p in POOLINGS[:3]),
    (DETAIL, "here that did not cost it test accuracy"):
        lambda: no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (DETAIL, "fitted its training images more closely than it fitted the test images"):
        lambda: beats(pooling_row(SMALL, "none")["train_accuracy"], pooling_runs(SMALL, "none")),
    (DETAIL, "Paired by seed, the difference is resolved; unpaired, it is not"):
        lambda: versus_max("strided").excludes_zero() and not versus_max("strided", paired=False).excludes_zero(),
    (POOL, "max pooling beat average pooling and strided convolutions, and showed no clear difference from no "
           "pooling"):
        lambda: all(beats(pooling_runs(SMALL, "max"), pooling_runs(SMALL, p)) for p in ("average", "strided"))
        and no_clear_difference(pooling_runs(SMALL, "none"), pooling_runs(SMALL, "max")),
    (POOL, "only three seeds per model, could not separate any of the four"):
        lambda: snapshot(FULL)["settings"]["seeds"] == 3 and all(no_clear_difference(pooling_runs(FULL, a), pooling_runs(FULL, b))
                    for i, a in enumerate(POOLINGS) for b in POOLINGS[i + 1:]),
    (INVARIANCE, "On the centered test digits, the book's convnet comes first and the global-pooling convnet "
                 "last"):
        lambda: beats(accuracies("convnet", 0), accuracies("dense", 0))
        and beats(accuracies("dense", 0), accuracies("global-pooling", 0)),
    (INVARIANCE, "From 4 pixels on, the dense network is below the 10% of a random guess"):
        lambda: all(below_chance("dense", shift) for shift in shifts()[4:]),
    (INVARIANCE, "The book's convnet does better than the dense network at every shift from 1 to 4 pixels"):
        lambda: all(beats(accuracies("convnet", shift), accuracies("dense", shift)) for shift in (1, 2, 3, 4)),
    (INVARIANCE, "at 6, below a random guess too"): lambda: below_chance("convnet", 6),
    (DETAIL, "At 1 pixel, the book's convnet is still ahead of the global-pooling convnet"):
        lambda: beats(accuracies("convnet", 1), accuracies("global-pooling", 1)),
    (DETAIL, "at 2 pixels the data show no clear difference between the two convnets"):
        lambda: no_clear_difference(accuracies("global-pooling", 2), accuracies("convnet", 2)),
    (INVARIANCE, "At 3 pixels and beyond the global-pooling convnet keeps more of its accuracy than the book's "
                 "convnet"):
        lambda: all(beats(accuracies("global-pooling", shift), accuracies("convnet", shift))
                    for shift in shifts()[3:]),
    (INVARIANCE, "Global average pooling made the convnet far more tolerant of shifts, not invariant to them: its "
                 "accuracy still falls with each pixel"):
        lambda: all(mean("global-pooling", shift) > mean("global-pooling", shift + 1) for shift in shifts()[:-1])
        and all(beats(accuracies("global-pooling", shift), accuracies("convnet", shift)) for shift in shifts()[3:]),
    (INVARIANCE, "the convnet ending in global average pooling is the only one still above a random guess at 6 "
                 "pixels"):
        lambda: above_chance("global-pooling", 6) and below_chance("dense", 6) and below_chance("convnet", 6),
}


@pytest.mark.parametrize("page, sentence", COMPARISONS, ids=lambda item: item)
def test_comparative_sentence_stands_on_the_stored_results(page, sentence):
    text = prose((ROOT / page).read_text(encoding="utf-8"))
    assert " ".join(sentence.split()) in text, f"{page} no longer says: {sentence!r}"
    assert COMPARISONS[page, sentence](), f"{page}: the stored results do not support {sentence!r}"


COMPARATIVE = re.compile(r"\b(better|beats?|worse|outperforms?|(?:higher|lower|faster|slower) than|"
                         r"no clear difference|comes? first)\b", re.I)
# Sentences with a comparative word that compare nothing measured here, each with the reason.
NOT_COMPARISONS = {
    CHECKS: ["Any sentence that says *better*, *beats*",  # describes the check itself
             "A sentence saying that one model beats another stands only if"],
    FIRST: ["Which one does better on the test set?"],  # exercise 4's question; its solution's answer is checked
    CONV: ["it *generalizes* better"],  # the argument for convolutions; the first chapter measures the outcome
    DETAIL: ['and the honest verdict is "no clear difference"'],  # defines the phrase
}


@pytest.mark.parametrize("page", PAGES)
def test_every_comparative_sentence_is_checked(page):
    """A sentence with "better", "beats", "no clear difference"... needs an entry in COMPARISONS (on the
    benchmark page, in BENCHMARK_COMPARISONS)."""
    checked = [sentence for (where, sentence) in COMPARISONS if where == page] + NOT_COMPARISONS.get(page, [])
    if page == BENCH:
        checked += list(BENCHMARK_COMPARISONS)
    sentences = re.split(r"(?<=[.!?:])\s+", prose((ROOT / page).read_text(encoding="utf-8")))
    unchecked = [sentence for sentence in sentences if COMPARATIVE.search(sentence)
                 and not any(" ".join(known.split()) in sentence for known in checked)]
    assert not unchecked, "comparative sentences that no test checks (add them to COMPARISONS):\n" + \
        "\n".join(unchecked)


def test_pooling_sentences_fail_when_the_stored_runs_say_otherwise(monkeypatch):
    stored = snapshot(SMALL)

    def stored_with(pooling: str, accuracies: list[float]) -> dict:
        return {**stored, "results": [{**row, "test_accuracy": accuracies} if row["pooling"] == pooling else row
                                      for row in stored["results"]]}

    this_module = sys.modules[__name__]
    average_as_good = stored_with("average", pooling_runs(SMALL, "max"))
    monkeypatch.setattr(this_module, "snapshot", lambda name: average_as_good if name == SMALL else stored)
    assert not COMPARISONS[DETAIL, "Max pooling beats average pooling and strided convolutions"]()
    none_a_point_higher = stored_with("none", [value + 0.01 for value in pooling_runs(SMALL, "max")])
    monkeypatch.setattr(this_module, "snapshot", lambda name: none_a_point_higher if name == SMALL else stored)
    assert not COMPARISONS[DETAIL, "Between max pooling and no pooling at all, the experiment finds no clear difference"]()
