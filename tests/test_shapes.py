"""The output-size, padding and receptive-field formulas the site states, checked against Keras."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from convnets import models
from convnets.shapes import conv_output_size, output_size, receptive_fields, same_padding, window_layers

pytestmark = pytest.mark.backends  # the shape formulas against Keras, on each backend

SIZES = (5, 7, 12, 28)
WINDOWS = (1, 2, 3, 5)
STRIDES = (1, 2, 3)
GRID = [case for case in itertools.product(SIZES, WINDOWS, STRIDES, ("valid", "same")) if case[1] <= case[0]]


def keras_shape(layer: keras.layers.Layer, rows: int, cols: int) -> tuple[int, int]:
    """Run a layer on a real (1, rows, cols, 2) input and return its output's height and width."""
    output = layer(np.zeros((1, rows, cols, 2), dtype="float32"))
    return tuple(output.shape[1:3])


@pytest.mark.parametrize("n, k, s, padding", GRID)
def test_output_size_matches_conv2d(n, k, s, padding):
    layer = keras.layers.Conv2D(3, kernel_size=k, strides=s, padding=padding)
    assert keras_shape(layer, n, n + 3) == (output_size(n, k, s, padding), output_size(n + 3, k, s, padding))


@pytest.mark.parametrize("n, k, s, padding", GRID)
def test_output_size_matches_max_pooling(n, k, s, padding):
    layer = keras.layers.MaxPooling2D(pool_size=k, strides=s, padding=padding)
    assert keras_shape(layer, n, n + 3) == (output_size(n, k, s, padding), output_size(n + 3, k, s, padding))


def test_pooling_stride_defaults_to_the_window():
    assert keras_shape(keras.layers.MaxPooling2D(pool_size=2), 26, 11) == (output_size(26, 2, 2), output_size(11, 2, 2)) == (13, 5)


def test_unknown_padding_is_refused():
    with pytest.raises(ValueError, match="padding must be one of"):
        output_size(5, 3, 1, "causal")


@pytest.mark.parametrize("n, k, s", [(5, 3, 1), (6, 3, 2), (7, 2, 2), (28, 5, 3), (4, 4, 1)])
def test_same_padding_matches_keras_border_values(n, k, s):
    # A kernel of ones over an image of ones counts the real (unpadded) pixels under each window.
    layer = keras.layers.Conv2D(1, kernel_size=k, strides=s, padding="same", use_bias=False, kernel_initializer="ones")
    counts = keras.ops.convert_to_numpy(layer(np.ones((1, n, n, 1), dtype="float32")))[0, :, :, 0]
    padded = np.pad(np.ones(n), same_padding(n, k, s))
    per_axis = np.array([padded[i * s:i * s + k].sum() for i in range(output_size(n, k, s, "same"))])
    np.testing.assert_array_equal(counts, np.outer(per_axis, per_axis))


@pytest.mark.parametrize("n", [5, 6, 7, 8, 13, 27, 28])
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_same_with_stride_2_is_same_padding_then_a_valid_convolution(n, k):
    # The same weights, so any other split of the padding (e.g. symmetric) would change the numbers.
    images = np.random.default_rng(n * 10 + k).normal(size=(2, n, n + 1, 3)).astype("float32")
    same = keras.layers.Conv2D(4, kernel_size=k, strides=2, padding="same", bias_initializer="random_normal")
    expected = keras.ops.convert_to_numpy(same(images))
    padded = keras.layers.ZeroPadding2D((same_padding(n, k, 2), same_padding(n + 1, k, 2)))(images)
    valid = keras.layers.Conv2D(4, kernel_size=k, strides=2, padding="valid")
    valid.build(padded.shape)
    valid.set_weights(same.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(valid(padded)), expected, atol=1e-5)


def test_same_with_stride_2_on_28_pixels_pads_nothing_before_and_one_row_after():
    assert same_padding(28, 3, 2) == (0, 1)
    assert conv_output_size(28, 3, 2, padding=same_padding(28, 3, 2)) == output_size(28, 3, 2, "same") == 14


def test_valid_is_the_general_formula_without_padding_or_dilation():
    for n, k, s in itertools.product(range(1, 30), range(1, 8), range(1, 5)):
        if k <= n:
            assert output_size(n, k, s, "valid") == conv_output_size(n, k, s, d=1, padding=(0, 0))


def test_same_is_the_general_formula_with_same_padding():
    # The strides chapter says so (its "Going further" block on the general formula).
    for n, k, s in itertools.product(range(1, 40), range(1, 8), range(1, 5)):
        if k <= n:
            assert output_size(n, k, s, "same") == conv_output_size(n, k, s, padding=same_padding(n, k, s))


def impulse_reach(windows: list[tuple[int, int]], n: int) -> int:
    """Side of the input square that can change the top-left output of a stack of (window, stride) layers."""
    stack = keras.Sequential([keras.Input((n, n, 1))] + [
        keras.layers.Conv2D(1, k, strides=s, use_bias=False, kernel_initializer="ones") for k, s in windows])
    impulses = np.eye(n * n, dtype="float32").reshape(n * n, n, n, 1)  # one lit pixel per image
    reached = keras.ops.convert_to_numpy(stack(impulses))[:, 0, 0, 0].reshape(n, n) > 0
    rows, cols = np.nonzero(reached)
    assert rows.min() == cols.min() == 0 and reached[: rows.max() + 1, : cols.max() + 1].all()
    return int(rows.max()) + 1


@pytest.mark.parametrize("build, expected", [
    (models.build_convnet, [3, 4, 8, 10, 18]),
    (models.build_convnet_no_max_pool, [3, 5, 7]),
    (lambda: models.build_pooling_variant("strided"), [3, 7, 15]),
])
def test_receptive_fields_match_which_pixels_reach_an_output(build, expected):
    windows = [(k, s) for _, k, s in window_layers(build())]
    assert receptive_fields(windows) == expected
    assert [impulse_reach(windows[: i + 1], 28) for i in range(len(windows))] == expected
