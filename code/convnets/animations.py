"""Frame data for the site's animations (docs/javascripts/animation.mjs plays them): a window walking over an
input, one frame per output cell, every number computed by convnets.numpy_ops. NumPy only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from convnets.numpy_ops import conv2d, dilated_conv2d, extract_patches, max_pool2d, pad_same
from convnets.shapes import conv_output_size, same_padding

MAX_BYTES = 300 * 1024


def grid(values: np.ndarray) -> list[list[float | int]]:
    """A 2-D array as nested lists, whole numbers written without a decimal point."""
    whole = bool(np.all(values == np.round(values)))
    return np.asarray(values, dtype=int if whole else float).tolist()


def decimals_of(*arrays: np.ndarray) -> int:
    """0 when every value is a whole number, else 2: how many decimals the page prints."""
    return 0 if all(np.all(a == np.round(a)) for a in arrays) else 2


def frames(output: np.ndarray, s: int) -> list[dict]:
    """One frame per output cell, row by row: the cell, the window's top-left corner in the padded input, the value."""
    return [{"cell": [i, j], "window": [i * s, j * s], "value": grid(output[i:i + 1, j:j + 1])[0][0]}
            for i in range(output.shape[0]) for j in range(output.shape[1])]


def conv_animation(title: str, image: np.ndarray, kernel: np.ndarray, bias: float = 0.0, strides: int = 1,
                   padding: str = "valid", dilation: int = 1, shade: bool = False) -> dict:
    """A k×k kernel (one channel in, one out) walking over a 2-D input, as numpy_ops.conv2d computes it."""
    k = kernel.shape[0]
    span = dilation * (k - 1) + 1
    before, after = same_padding(image.shape[0], span, strides) if padding == "same" else (0, 0)
    volume = image[:, :, np.newaxis]
    padded = pad_same(volume, span, strides) if padding == "same" else volume
    weights, biases = kernel[:, :, np.newaxis, np.newaxis], np.array([bias])
    if dilation == 1:
        output = conv2d(volume, weights, biases, strides, padding)[:, :, 0]
    else:
        output = dilated_conv2d(volume, weights, biases, dilation, strides, padding)[:, :, 0]
    side = conv_output_size(image.shape[0], k, strides, dilation, (before, after))
    assert output.shape == (side, side) == extract_patches(padded, span, strides).shape[:2]
    return {"kind": "conv", "title": title, "stride": strides, "dilation": dilation, "padding": padding,
            "pad": [before, after], "decimals": decimals_of(image, kernel, output), "shade": shade,
            "input": grid(image), "kernel": grid(kernel), "bias": bias, "padded": grid(padded[:, :, 0]),
            "output": grid(output), "frames": frames(output, strides)}


def pool_animation(title: str, image: np.ndarray, size: int = 2, strides: int | None = None) -> dict:
    """A size×size max-pooling window walking over a 2-D map, as numpy_ops.max_pool2d computes it ("valid")."""
    strides = strides or size
    output = max_pool2d(image[:, :, np.newaxis], size, strides)[:, :, 0]
    side = conv_output_size(image.shape[0], size, strides)
    assert output.shape == (side, side)
    return {"kind": "max_pool", "title": title, "size": size, "stride": strides, "dilation": 1, "padding": "valid",
            "pad": [0, 0], "decimals": decimals_of(image, output), "shade": False, "input": grid(image),
            "padded": grid(image), "output": grid(output), "frames": frames(output, strides)}


def strongest_filter(kernels: np.ndarray, biases: np.ndarray, image: np.ndarray) -> int:
    """The first-layer filter whose ReLU response to an (H, W, 1) image has the highest peak."""
    return int(np.maximum(conv2d(image, kernels, biases), 0).max(axis=(0, 1)).argmax())


def filter_animation(kernels: np.ndarray, biases: np.ndarray, digit: np.ndarray) -> dict:
    """A trained first-layer filter (the one that responds most strongly) sliding over a 28×28 test digit."""
    image = np.round(digit.astype(float) / 255, 4)  # the convnet's input scale, 4 decimals
    channel = strongest_filter(kernels, biases, image[:, :, np.newaxis])
    kernel = np.round(kernels[:, :, 0, channel].astype(float), 4)
    bias = round(float(biases[channel]), 4)
    data = conv_animation(f"Filter {channel} of the trained convnet's first layer over a test digit",
                          image, kernel, bias, shade=True)
    data["output"] = np.round(np.array(data["output"]), 4).tolist()
    for frame in data["frames"]:
        frame["value"] = round(frame["value"], 4)
    return data


def pool_crop(kernels: np.ndarray, biases: np.ndarray, digit: np.ndarray, side: int = 8) -> tuple[np.ndarray, int]:
    """A side×side crop (at even offsets) of a first-layer ReLU map of a digit, the crop with the largest sum,
    rounded to 2 decimals, and the filter's index."""
    image = digit.astype(float)[:, :, np.newaxis] / 255
    channel = strongest_filter(kernels, biases, image)
    response = np.maximum(conv2d(image, kernels, biases), 0)[:, :, channel]
    starts = range(0, response.shape[0] - side + 1, 2)
    top, left = max(((r, c) for r in starts for c in starts),
                    key=lambda at: response[at[0]:at[0] + side, at[1]:at[1] + side].sum())
    return np.round(response[top:top + side, left:left + side], 2), channel


def write(data: dict, path: Path) -> None:
    """Write frame data as compact JSON; refuse a file of 300 KB or more."""
    text = json.dumps(data, separators=(",", ":"))
    if len(text.encode()) >= MAX_BYTES:
        raise ValueError(f"{path.name} would be {len(text) / 1024:.0f} KB, over the 300 KB limit")
    path.write_text(text + "\n", encoding="utf-8")
