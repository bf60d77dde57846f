"""Convolution and max pooling written from scratch in NumPy, for one (height, width, channels) map."""

from __future__ import annotations

import numpy as np

# --8<-- [start:imports]
from convnets.shapes import output_size, same_padding
# --8<-- [end:imports]


# --8<-- [start:pad]
def pad_same(image: np.ndarray, k: int, s: int = 1,
             fill: float = 0.0) -> np.ndarray:
    """Pad an (H, W, C) map with `fill` as padding="same" does."""
    rows = same_padding(image.shape[0], k, s)
    cols = same_padding(image.shape[1], k, s)
    return np.pad(image, (rows, cols, (0, 0)), constant_values=fill)
# --8<-- [end:pad]


# --8<-- [start:patches]
def extract_patches(image: np.ndarray, k: int, s: int = 1) -> np.ndarray:
    """Every k×k window of an (H, W, C) map, s pixels apart.

    Returns an array of shape (out_h, out_w, k, k, C).
    """
    out_h = output_size(image.shape[0], k, s)
    out_w = output_size(image.shape[1], k, s)
    patches = np.empty((out_h, out_w, k, k, image.shape[2]), image.dtype)
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * s, j * s
            patches[i, j] = image[top:top + k, left:left + k, :]
    return patches
# --8<-- [end:patches]


# --8<-- [start:conv2d]
def conv2d(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
           strides: int = 1, padding: str = "valid") -> np.ndarray:
    """Convolve an (H, W, C_in) map like keras.layers.Conv2D, before its activation.

    `kernel` has Keras's layout (k, k, C_in, C_out), `bias` shape (C_out,).
    """
    k = kernel.shape[0]
    if padding == "same":
        image = pad_same(image, k, strides)
    patches = extract_patches(image, k, strides)  # (out_h, out_w, k, k, C_in)
    # One dot product per patch and filter, over the k, k and C_in axes:
    return np.tensordot(patches, kernel, axes=3) + bias  # (out_h, out_w, C_out)
# --8<-- [end:conv2d]


# --8<-- [start:dilated_conv2d]
def dilated_conv2d(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray, dilation: int = 2,
                   strides: int = 1, padding: str = "valid") -> np.ndarray:
    """Convolve an (H, W, C_in) map like keras.layers.Conv2D(..., dilation_rate=dilation)."""
    span = dilation * (kernel.shape[0] - 1) + 1  # the effective window
    if padding == "same":
        image = pad_same(image, span, strides)
    windows = extract_patches(image, span, strides)  # (out_h, out_w, span, span, C_in)
    taps = windows[:, :, ::dilation, ::dilation]  # every d-th pixel: (out_h, out_w, k, k, C_in)
    return np.tensordot(taps, kernel, axes=3) + bias  # k·k·C_in multiply-adds per output and filter
# --8<-- [end:dilated_conv2d]


# --8<-- [start:max_pool2d]
def max_pool2d(image: np.ndarray, size: int = 2, strides: int | None = None,
               padding: str = "valid") -> np.ndarray:
    """Max pooling of an (H, W, C) map, like keras.layers.MaxPooling2D."""
    strides = strides or size  # as in Keras, the stride defaults to the window
    if padding == "same":
        image = pad_same(image, size, strides, fill=-np.inf)
    patches = extract_patches(image, size, strides)  # (out_h, out_w, size, size, C)
    return patches.max(axis=(2, 3))  # the largest value of each window and channel
# --8<-- [end:max_pool2d]


# --8<-- [start:conv2d_channels_first]
def conv2d_channels_first(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Convolve a (C_in, H, W) map with a (C_out, C_in, k, k) kernel, PyTorch's layouts (stride 1, no padding)."""
    c_out, _, k, _ = kernel.shape
    out_h, out_w = output_size(image.shape[1], k), output_size(image.shape[2], k)
    output = np.zeros((c_out, out_h, out_w), dtype=np.result_type(image, kernel))
    for u in range(k):
        for v in range(k):  # the input shifted by (u, v), its channels mixed by the kernel's weights at (u, v)
            shifted = image[:, u:u + out_h, v:v + out_w]  # (C_in, out_h, out_w)
            output += np.einsum("oc,chw->ohw", kernel[:, :, u, v], shifted)
    return output + bias[:, np.newaxis, np.newaxis]  # (C_out, out_h, out_w)
# --8<-- [end:conv2d_channels_first]
