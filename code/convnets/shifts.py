"""Digits placed on a larger blank canvas, at its center or shifted from it. NumPy only."""

from __future__ import annotations

# --8<-- [start:canvas]
import numpy as np

CANVAS = 40  # a 28×28 digit on a 40×40 canvas has a margin of 6 pixels on every side
# --8<-- [end:canvas]


# --8<-- [start:place_on_canvas]
def place_on_canvas(images: np.ndarray, dy: int = 0, dx: int = 0, size: int = CANVAS) -> np.ndarray:
    """Put (N, h, w, ...) images on a zero (N, size, size, ...) canvas, moved dy rows down and dx columns
    right from its center."""
    height, width = images.shape[1:3]
    if size < height or size < width or (size - height) % 2 or (size - width) % 2:
        raise ValueError(f"a {height}×{width} image has no center on a {size}×{size} canvas: "
                         "the canvas must be larger by an even number of pixels")
    margin_y, margin_x = (size - height) // 2, (size - width) // 2
    if abs(dy) > margin_y or abs(dx) > margin_x:
        raise ValueError(f"a shift of (dy, dx) = ({dy}, {dx}) moves a {height}×{width} image off the "
                         f"{size}×{size} canvas: dy must be within ±{margin_y} and dx within ±{margin_x}")
    canvas = np.zeros((images.shape[0], size, size, *images.shape[3:]), dtype=images.dtype)
    top, left = margin_y + dy, margin_x + dx
    canvas[:, top:top + height, left:left + width] = images
    return canvas
# --8<-- [end:place_on_canvas]
