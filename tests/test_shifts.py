"""Digits on a canvas: placed at its center or shifted, whole, and refused when a shift would cut them."""

from __future__ import annotations

import numpy as np
import pytest

from convnets.shifts import CANVAS, place_on_canvas


@pytest.fixture
def digits() -> np.ndarray:
    return np.random.default_rng(0).integers(1, 256, size=(3, 28, 28)).astype(np.uint8)


def test_digits_land_on_a_canvas_of_the_requested_size_and_dtype(digits):
    placed = place_on_canvas(digits)
    assert placed.shape == (3, CANVAS, CANVAS) and placed.dtype == np.uint8
    assert place_on_canvas(digits[..., np.newaxis], size=32).shape == (3, 32, 32, 1)


def test_every_pixel_of_the_digit_is_kept_and_nothing_is_added(digits):
    for dy, dx in [(0, 0), (6, 6), (-6, 3), (2, -5)]:
        placed = place_on_canvas(digits, dy, dx)
        assert placed.sum(dtype=np.int64) == digits.sum(dtype=np.int64)
        assert np.count_nonzero(placed) == np.count_nonzero(digits)


def test_a_centered_digit_has_the_same_margin_on_every_side(digits):
    placed = place_on_canvas(digits)
    np.testing.assert_array_equal(placed[:, 6:34, 6:34], digits)


def test_a_shift_moves_the_digit_by_dy_rows_and_dx_columns(digits):
    centered = place_on_canvas(digits)
    for dy, dx in [(1, 0), (0, 1), (3, 3), (-2, 5), (-6, -6)]:
        np.testing.assert_array_equal(place_on_canvas(digits, dy, dx), np.roll(centered, (dy, dx), axis=(1, 2)))


@pytest.mark.parametrize("dy, dx", [(7, 0), (0, -7), (10, 10)])
def test_a_shift_past_the_margin_is_refused_with_the_allowed_range(digits, dy, dx):
    with pytest.raises(ValueError, match=rf"\(dy, dx\) = \({dy}, {dx}\) moves a 28×28 image off the 40×40 "
                                         r"canvas: dy must be within ±6 and dx within ±6"):
        place_on_canvas(digits, dy, dx)


@pytest.mark.parametrize("size", [20, 41])
def test_a_canvas_without_a_center_for_the_digit_is_refused(digits, size):
    with pytest.raises(ValueError, match=f"a 28×28 image has no center on a {size}×{size} canvas"):
        place_on_canvas(digits, size=size)
