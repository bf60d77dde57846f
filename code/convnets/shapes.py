"""Output sizes, padding amounts and receptive fields of convolution and pooling layers."""

from __future__ import annotations

import keras

PADDINGS = ("valid", "same")


# --8<-- [start:conv_output_size]
def conv_output_size(n: int, k: int, s: int = 1, d: int = 1,
                     padding: tuple[int, int] = (0, 0)) -> int:
    """Output length along one axis: input n padded by (before, after), k taps d apart, stride s."""
    span = d * (k - 1) + 1  # the effective window: from the first tap to the last
    before, after = padding
    return (n + before + after - span) // s + 1  # the window starts at 0, s, 2s, ... while it fits
# --8<-- [end:conv_output_size]


# --8<-- [start:output_size]
def output_size(n: int, k: int, s: int = 1, padding: str = "valid") -> int:
    """Output length along one axis: input length n, window k, stride s."""
    if padding == "valid":  # only the windows that fit inside the input
        return conv_output_size(n, k, s)  # the general formula, without padding or dilation
    if padding == "same":  # one window per stride
        return -(-n // s)  # ceil(n / s)
    raise ValueError(f"padding must be one of {PADDINGS}, not {padding!r}")
# --8<-- [end:output_size]


# --8<-- [start:same_padding]
def same_padding(n: int, k: int, s: int = 1) -> tuple[int, int]:
    """Rows (or columns) that padding="same" adds before and after an axis."""
    total = max((output_size(n, k, s, "same") - 1) * s + k - n, 0)
    return total // 2, total - total // 2
# --8<-- [end:same_padding]


# --8<-- [start:receptive_field]
def receptive_fields(windows: list[tuple[int, int]]) -> list[int]:
    """Side of the input region one output sees after each (window, stride)."""
    size, jump, sizes = 1, 1, []  # jump: input pixels between neighbouring outputs
    for k, s in windows:
        size += (k - 1) * jump  # a window spans k outputs of the previous layer
        jump *= s
        sizes.append(size)
    return sizes
# --8<-- [end:receptive_field]


def window_layers(model: keras.Model) -> list[tuple[str, int, int]]:
    """(layer class, window, stride) for each convolution and pooling layer of a model, in order."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            rows.append(("Conv2D", layer.kernel_size[0], layer.strides[0]))
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            rows.append((type(layer).__name__, layer.pool_size[0], layer.strides[0]))
    return rows
