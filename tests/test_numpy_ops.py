"""The from-scratch NumPy convolution and max pooling agree with Keras's layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convnets.numpy_ops import conv2d, conv2d_channels_first, dilated_conv2d, extract_patches, max_pool2d, pad_same

pytestmark = pytest.mark.backends  # the from-scratch operations against Keras, on each backend

CASES = [  # (height, width, channels in, channels out, window, stride, padding)
    (5, 5, 1, 1, 3, 1, "valid"),
    (5, 5, 1, 1, 3, 1, "same"),
    (5, 5, 1, 1, 3, 2, "valid"),
    (28, 28, 1, 32, 3, 1, "valid"),
    (13, 11, 32, 64, 3, 1, "valid"),
    (9, 10, 3, 4, 5, 2, "same"),
    (8, 7, 2, 3, 2, 3, "same"),
    (6, 6, 4, 2, 1, 1, "valid"),
]


def random_image(rows: int, cols: int, channels: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, cols, channels)).astype("float32")


@pytest.mark.parametrize("rows, cols, c_in, c_out, k, s, padding", CASES)
def test_conv2d_matches_keras_with_the_same_weights(rows, cols, c_in, c_out, k, s, padding):
    layer = keras.layers.Conv2D(c_out, kernel_size=k, strides=s, padding=padding, bias_initializer="random_normal")
    images = np.stack([random_image(rows, cols, c_in, seed) for seed in range(3)])
    expected = keras.ops.convert_to_numpy(layer(images))
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    ours = np.stack([conv2d(image, kernel, bias, strides=s, padding=padding) for image in images])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5, rtol=1e-5)


DILATED_CASES = [  # (height, width, channels in, channels out, window, dilation, padding)
    (9, 9, 1, 1, 3, 2, "valid"),
    (9, 9, 1, 1, 3, 2, "same"),
    (28, 28, 1, 8, 3, 2, "valid"),
    (12, 11, 3, 4, 3, 3, "same"),
    (10, 13, 2, 3, 2, 3, "same"),
    (11, 10, 4, 2, 5, 2, "valid"),
    (7, 7, 2, 2, 3, 3, "valid"),
]


@pytest.mark.parametrize("rows, cols, c_in, c_out, k, d, padding", DILATED_CASES)
def test_dilated_conv2d_matches_keras_dilation_rate_with_the_same_weights(rows, cols, c_in, c_out, k, d, padding):
    layer = keras.layers.Conv2D(c_out, kernel_size=k, dilation_rate=d, padding=padding,
                                bias_initializer="random_normal")
    images = np.stack([random_image(rows, cols, c_in, seed) for seed in range(3)])
    expected = keras.ops.convert_to_numpy(layer(images))
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    ours = np.stack([dilated_conv2d(image, kernel, bias, dilation=d, padding=padding) for image in images])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rows, cols, c_in, c_out, k, d, padding", [case for case in DILATED_CASES if case[-1] == "valid"])
def test_strided_dilated_conv2d_keeps_every_other_output_of_keras_at_stride_1(rows, cols, c_in, c_out, k, d, padding):
    # Keras refuses strides > 1 with dilation_rate > 1; a stride of 2 keeps every other output of stride 1
    # (without padding: with "same" the padding itself depends on the stride).
    with pytest.raises(ValueError, match="not supported in conjunction with"):
        keras.layers.Conv2D(c_out, kernel_size=k, strides=2, dilation_rate=d)
    layer = keras.layers.Conv2D(c_out, kernel_size=k, dilation_rate=d, bias_initializer="random_normal")
    image = random_image(rows, cols, c_in, seed=5)
    expected = keras.ops.convert_to_numpy(layer(image[np.newaxis]))[0, ::2, ::2]
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    np.testing.assert_allclose(dilated_conv2d(image, kernel, bias, dilation=d, strides=2), expected, atol=1e-5)


@pytest.mark.parametrize("rows, cols, c_in, c_out, k, s, padding", CASES)
def test_dilation_1_is_the_ordinary_convolution(rows, cols, c_in, c_out, k, s, padding):
    rng = np.random.default_rng(6)
    image, kernel, bias = random_image(rows, cols, c_in, seed=6), rng.normal(size=(k, k, c_in, c_out)), rng.normal(size=c_out)
    np.testing.assert_allclose(dilated_conv2d(image, kernel, bias, 1, s, padding), conv2d(image, kernel, bias, s, padding))


@pytest.mark.parametrize("rows, cols, c_in, c_out, k, s, padding", CASES)
def test_max_pool2d_matches_max_pooling2d(rows, cols, c_in, c_out, k, s, padding):  # c_out unused: no weights
    layer = keras.layers.MaxPooling2D(pool_size=k, strides=s, padding=padding)
    images = np.stack([random_image(rows, cols, c_in, seed) for seed in range(3)])
    expected = keras.ops.convert_to_numpy(layer(images))
    ours = np.stack([max_pool2d(image, size=k, strides=s, padding=padding) for image in images])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5, rtol=0)


def test_max_pool_stride_defaults_to_its_window():
    image = random_image(26, 26, 32, seed=4)
    expected = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(pool_size=2)(image[np.newaxis]))[0]
    assert max_pool2d(image).shape == (13, 13, 32)
    np.testing.assert_allclose(max_pool2d(image), expected, atol=1e-5)


def test_patches_are_the_windows_in_reading_order():
    image = np.arange(25, dtype="float32").reshape(5, 5, 1)
    patches = extract_patches(image, 3, 2)
    assert patches.shape == (2, 2, 3, 3, 1)
    np.testing.assert_array_equal(patches[0, 1, :, :, 0], image[0:3, 2:5, 0])
    np.testing.assert_array_equal(patches[1, 0, :, :, 0], image[2:5, 0:3, 0])


def test_same_padding_of_a_max_pool_never_wins():
    image = -np.ones((3, 3, 1), dtype="float32")
    padded = pad_same(image, 2, 2, fill=-np.inf)
    assert padded.shape == (4, 4, 1) and np.isneginf(padded[-1]).all()
    np.testing.assert_array_equal(max_pool2d(image, 2, padding="same"), -np.ones((2, 2, 1)))


def test_channels_first_conv2d_with_the_transposed_kernel_gives_the_keras_output_transposed():
    layer = keras.layers.Conv2D(4, kernel_size=3, bias_initializer="random_normal")
    image = random_image(6, 5, 3, seed=5)
    expected = keras.ops.convert_to_numpy(layer(image[np.newaxis]))[0]  # (4, 3, 4): channels last
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    torch_kernel = np.transpose(kernel, (3, 2, 0, 1))  # (k, k, C_in, C_out) -> (C_out, C_in, k, k)
    assert torch_kernel.shape == (4, 3, 3, 3)
    np.testing.assert_array_equal(np.transpose(torch_kernel, (2, 3, 1, 0)), kernel)
    ours = conv2d_channels_first(np.transpose(image, (2, 0, 1)), torch_kernel, bias)
    assert ours.shape == (4, 4, 3)
    np.testing.assert_allclose(np.transpose(ours, (1, 2, 0)), expected, atol=1e-5, rtol=1e-5)


def convolution_chapter_functions() -> dict:
    """The simple functions the convolution chapter defines in its notebook (its `digit`, `conv2d` and
    `channels_first` sections), run alone: the notebook itself loads MNIST and trains."""
    import re

    from helpers import ROOT

    source = (ROOT / "code" / "notebooks" / "convolution.py").read_text(encoding="utf-8")
    names = {"np": np}
    for section in ("conv2d", "channels_first"):
        exec(re.search(rf"# --8<-- \[start:{section}\]\n(.*?)# --8<-- \[end:{section}\]", source, re.S)[1], names)
    loop = re.search(r"(def conv2d_loop\(.*?\n    return out\n)", source, re.S)[1]
    exec(loop, names)
    return names


@pytest.mark.parametrize("rows, cols, c_in, c_out, k", [case[:5] for case in CASES if case[5:] == (1, "valid")])
def test_the_convolution_chapters_conv2d_and_relu_match_conv2d_with_its_relu(rows, cols, c_in, c_out, k):
    chapter = convolution_chapter_functions()
    layer = keras.layers.Conv2D(c_out, kernel_size=k, activation="relu", bias_initializer="random_normal")
    image = random_image(rows, cols, c_in, seed=7)
    expected = keras.ops.convert_to_numpy(layer(image[np.newaxis]))[0]
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    np.testing.assert_allclose(chapter["relu"](chapter["conv2d"](image, kernel, bias)), expected, atol=1e-5)
    if c_in == c_out == 1:  # the loop works on one 2-D image and one kernel
        ours = chapter["relu"](chapter["conv2d_loop"](image[:, :, 0], kernel[:, :, 0, 0], bias[0]))
        np.testing.assert_allclose(ours, expected[:, :, 0], atol=1e-5)
    torch = chapter["conv2d_channels_first"](np.transpose(image, (2, 0, 1)), np.transpose(kernel, (3, 2, 0, 1)), bias)
    np.testing.assert_allclose(chapter["relu"](np.transpose(torch, (1, 2, 0))), expected, atol=1e-5)
