"""The convolution explorer's arithmetic (docs/javascripts/conv-arithmetic.mjs) against Keras's own layers.

Keras's Conv2D and MaxPooling2D give the output sizes, and for padding="same" the rows they pad before
the input, measured from what the layers compute; ZeroPadding2D + a "valid" Conv2D gives PyTorch-style
explicit padding. The settings are written to build/js-fixtures/, where `npm test` (tests/js/conv-arithmetic.test.mjs)
checks the JavaScript module against them, and each is checked here against the project's Python formulas.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable

import numpy as np
import pytest

from convnets import shapes
from helpers import ROOT
from test_site import config

KERNELS, STRIDES, DILATIONS = range(1, 8), range(1, 5), range(1, 4)
SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16, 17, 28, 32)  # input sides n, up to the explorer's 32
EXPLICIT_SIZES = (1, 4, 5, 6, 9, 28)
PADS = range(0, 8)
ROW = 64  # the test input holds ROW·(row + 1) + (column + 1) at each cell: both decode from any value read
JS_FIXTURE = ROOT / "build" / "js-fixtures" / "keras-conv-arithmetic.json"  # what `npm test` reads


def positions(n: int) -> np.ndarray:
    """An n×n single-channel image whose every value names its cell (zero is left for the padding)."""
    rows, columns = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return (ROW * (rows + 1) + columns + 1).astype("float32")[None, :, :, None]


def decode(value: float) -> tuple[int, int]:
    """The (row, column) of the input cell a value of `positions` came from."""
    return int(value) // ROW - 1, int(value) % ROW - 1


def only(values: set[int]) -> int | None:
    """The one value measured (every window must agree), or None when no window showed it."""
    assert len(values) <= 1, f"windows disagree on the padding: {sorted(values)}"
    return next(iter(values), None)


def same_conv_padding_before(layer, n: int, s: int, d: int) -> tuple[int, int | None]:
    """Output size and rows padded before, from a "same" Conv2D whose filter j reads only its tap (j, j).

    Filter j at output (i, l) returns the input at (i·s + j·d − before, l·s + j·d − before), or 0 on the padding.
    """
    out = np.asarray(layer(positions(n)))[0]
    befores = set()
    for (i, l, j), value in np.ndenumerate(out):
        if value:
            row, column = decode(value)
            befores |= {i * s + j * d - row, l * s + j * d - column}
    return out.shape[0], only(befores)


def same_pool_padding_before(layer, n: int, k: int, s: int) -> tuple[int, int | None]:
    """Output size and rows padded before, from a "same" MaxPooling2D on the image and its negative.

    Max pooling skips the padding: window i's largest value is its last input cell, i·s + k − 1 − before
    unless the input ends first, and the negative's is its first, i·s − before unless the input starts later.
    """
    image = positions(n)
    largest, smallest = (np.asarray(layer(np.concatenate([image, -image])))[b, :, :, 0] for b in (0, 1))
    befores = set()
    for (i, l), value in np.ndenumerate(largest):
        (last_row, last_column), (first_row, first_column) = decode(value), decode(-smallest[i, l])
        for index, last, first in ((i, last_row, first_row), (l, last_column, first_column)):
            if last < n - 1:
                befores.add(index * s + k - 1 - last)
            if first > 0:
                befores.add(index * s - first)
    return largest.shape[0], only(befores)


def after_from_last_window(n: int, k: int, s: int, d: int, out: int, before: int | None) -> int | None:
    """Rows padded after: how far the last window reaches past the input, the padding it needs there."""
    if before is None:
        return None
    return max((out - 1) * s + d * (k - 1) + 1 - before - n, 0)


def setting(layer: str, n: int, k: int, s: int, d: int, padding: str, p: int = 0, **measured) -> dict:
    return {"layer": layer, "n": n, "k": k, "s": s, "d": d, "padding": padding, "p": p, **measured}


def keras_settings() -> list[dict]:
    """Output sizes (0: Keras computes no output) and "same" paddings, as Keras's layers give them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    found = []
    for k, s, d in itertools.product(KERNELS, STRIDES, DILATIONS):
        try:
            keras.layers.Conv2D(1, k, strides=s, dilation_rate=d)
        except ValueError as error:  # Keras refuses strides > 1 with dilation_rate > 1
            assert "dilation_rate" in str(error)
            found.append(setting("Conv2D", None, k, s, d, "valid", refused=True))
            continue
        valid = keras.layers.Conv2D(1, k, strides=s, dilation_rate=d, padding="valid")
        same = keras.layers.Conv2D(k, k, strides=s, dilation_rate=d, padding="same", use_bias=False)
        same.build((None, None, None, 1))
        same.set_weights([one_hot_taps(k)])
        for n in SIZES:
            found.append(setting("Conv2D", n, k, s, d, "valid", out=valid_size(valid, n), before=0, after=0))
            out, before = same_conv_padding_before(same, n, s, d)
            found.append(setting("Conv2D", n, k, s, d, "same", out=out, before=before,
                                 after=after_from_last_window(n, k, s, d, out, before)))
        for p, n in itertools.product(PADS, EXPLICIT_SIZES):
            shape = keras.layers.ZeroPadding2D(p).compute_output_shape((1, n, n, 1))
            found.append(setting("Conv2D", n, k, s, d, "explicit", p, out=valid_size(valid, shape[1]), before=p, after=p))
    for k, s in itertools.product(KERNELS, STRIDES):
        valid = keras.layers.MaxPooling2D(k, strides=s, padding="valid")
        same = keras.layers.MaxPooling2D(k, strides=s, padding="same")
        for n in SIZES:
            found.append(setting("MaxPooling2D", n, k, s, 1, "valid", out=valid_size(valid, n), before=0, after=0))
            out, before = same_pool_padding_before(same, n, k, s)
            found.append(setting("MaxPooling2D", n, k, s, 1, "same", out=out, before=before,
                                 after=after_from_last_window(n, k, s, 1, out, before)))
    return found


def one_hot_taps(k: int) -> np.ndarray:
    """A (k, k, 1, k) kernel: filter j multiplies tap (j, j) by 1 and every other tap by 0."""
    kernel = np.zeros((k, k, 1, k), "float32")
    for j in range(k):
        kernel[j, j, 0, j] = 1
    return kernel


def valid_size(layer, n: int) -> int:
    """The layer's output side on an n×n input with padding="valid"; 0 when Keras says there is none."""
    try:
        return layer.compute_output_shape((1, n, n, 1))[1]
    except ValueError as error:
        assert "zero or negative" in str(error) or "negative" in str(error), error
        return 0


def python_checks() -> list[tuple[str, Callable[[dict], bool], Callable[[dict], tuple]]]:
    """The project's Python formulas, each with the settings it covers and what it computes for one.

    A formula added to convnets.shapes joins here: conv_output_size (dilation, explicit padding) when it exists.
    """
    checks = [
        ("convnets.shapes.output_size", lambda x: x["d"] == 1 and x["padding"] in shapes.PADDINGS,
         lambda x: (max(shapes.output_size(x["n"], x["k"], x["s"], x["padding"]), 0),)),
        ("convnets.shapes.same_padding", lambda x: x["d"] == 1 and x["padding"] == "same" and x["before"] is not None,
         lambda x: (x["out"], *shapes.same_padding(x["n"], x["k"], x["s"]))),
    ]
    if general := getattr(shapes, "conv_output_size", None):
        checks.append(("convnets.shapes.conv_output_size", lambda x: x["padding"] != "same" or x["before"] is not None,
                       lambda x: (max(general(x["n"], x["k"], x["s"], x["d"], (x["before"], x["after"])), 0),)))
    return checks


def keras_values(name: str, x: dict) -> tuple:
    """What Keras measured, in the form the named Python formula computes."""
    return (x["out"], x["before"], x["after"]) if name.endswith("same_padding") else (x["out"],)


@pytest.fixture(scope="module")
def settings() -> list[dict]:
    """Keras's settings, written where `npm test` reads them."""
    found = keras_settings()
    JS_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    JS_FIXTURE.write_text(json.dumps({"settings": found}), encoding="utf-8")
    return found


def test_keras_fixture_covers_valid_same_and_explicit_padding_over_every_stride_and_dilation(settings):
    accepted = [x for x in settings if not x.get("refused")]
    assert len(accepted) >= 500
    assert {x["padding"] for x in accepted} == {"valid", "same", "explicit"}
    assert {x["s"] for x in accepted} == set(STRIDES) and {x["d"] for x in accepted} == set(DILATIONS)
    assert {x["layer"] for x in accepted} == {"Conv2D", "MaxPooling2D"}
    assert any(x.get("refused") for x in settings), "Keras accepted strides > 1 with dilation > 1"
    same = [x for x in accepted if x["padding"] == "same"]
    assert sum(x["before"] is not None for x in same) >= 0.9 * len(same), "too few paddings were measurable"
    assert any(x["before"] != x["after"] for x in same), "no uneven 'same' padding among the settings"


def test_keras_measures_the_uneven_same_padding_the_explorer_page_describes(settings):
    (mnist,) = [x for x in settings if x["layer"] == "Conv2D" and x["padding"] == "same" and (x["n"], x["k"], x["s"], x["d"]) == (28, 3, 2, 1)]
    assert (mnist["out"], mnist["before"], mnist["after"]) == (14, 0, 1)


def test_python_formulas_agree_with_keras_on_every_setting_they_cover(settings):
    accepted = [x for x in settings if not x.get("refused")]
    for name, covers, compute in python_checks():
        covered = [x for x in accepted if covers(x)]
        assert covered, f"{name} covers none of the settings"
        wrong = [f"{x}: {name} gives {compute(x)}" for x in covered if compute(x) != keras_values(name, x)]
        assert not wrong, f"{len(wrong)} settings where {name} disagrees with Keras, e.g.\n" + "\n".join(wrong[:10])


def test_the_site_loads_the_explorer_as_a_module_and_its_own_code_stays_light():
    assert {"path": "javascripts/explorer.mjs", "type": "module"} in config()["extra_javascript"]
    folder = ROOT / "docs" / "javascripts"
    loaded, waiting = set(), ["explorer.mjs"]
    while waiting:  # the explorer and every module it imports, directly or not
        name = waiting.pop()
        loaded.add(name)
        waiting += set(re.findall(r'from "\./([\w-]+\.mjs)"', (folder / name).read_text(encoding="utf-8"))) - loaded
    assert loaded >= {"explorer.mjs", "conv-arithmetic.mjs"}
    assert sum((folder / name).stat().st_size for name in loaded) < 40_000
