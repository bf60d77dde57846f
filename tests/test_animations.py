"""The animations' frame data in snaps/ (written by `make figures` with convnets.animations): each file is what
its job builds now, every frame's window and value follow from the file's own input and kernel by the stride,
dilation and padding it names, the maps match Keras's layers, and each file is small."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from convnets.animations import MAX_BYTES
from convnets.numpy_ops import conv2d, dilated_conv2d, max_pool2d, pad_same
from convnets.shapes import conv_output_size, same_padding
from helpers import ROOT

SNAPS = ROOT / "snaps"
TRAINED = ("anim_filter", "anim_max_pool")  # built from the trained convnet
PLACEHOLDER = re.compile(r'<div class="conv-animation" data-src="\.\./snaps/([\w-]+)\.json"')


def animation_names() -> list[str]:
    from make_figures import ANIMATIONS

    return list(ANIMATIONS)


def load(name: str) -> dict:
    return json.loads((SNAPS / f"{name}.json").read_text(encoding="utf-8"))


def span(data: dict) -> int:
    return data["size"] if data["kind"] == "max_pool" else data["dilation"] * (len(data["kernel"]) - 1) + 1


def test_snaps_holds_one_json_file_per_animation_job_and_the_pages_play_each():
    names = animation_names()
    assert len(names) == 7
    assert sorted(path.stem for path in SNAPS.glob("anim_*.json")) == sorted(names)
    played = [name for page in (ROOT / "docs").rglob("*.md") for name in PLACEHOLDER.findall(page.read_text())]
    assert sorted(played) == sorted(names), "each animation is played on exactly one page"


@pytest.mark.parametrize("name", animation_names())
def test_animation_file_is_small(name):
    size = (SNAPS / f"{name}.json").stat().st_size
    assert size < MAX_BYTES, f"{name}.json is {size / 1024:.0f} KB"


@pytest.mark.parametrize("name", [name for name in animation_names() if name not in TRAINED])
def test_committed_animation_is_what_its_job_builds_now(name, tmp_path):
    from make_figures import JOBS, Sources

    JOBS[name](Sources(quick=True, mnist=None), tmp_path / f"{name}.json")
    assert (tmp_path / f"{name}.json").read_text() == (SNAPS / f"{name}.json").read_text(), \
        f"snaps/{name}.json no longer matches its code (run `make_figures.py --only {name}`)"


@pytest.mark.parametrize("name", animation_names())
def test_padding_and_padded_input_follow_keras_same_rule(name):
    data = load(name)
    image = np.array(data["input"], dtype=float)
    n = image.shape[0]
    expected = same_padding(n, span(data), data["stride"]) if data["padding"] == "same" else (0, 0)
    assert tuple(data["pad"]) == expected
    padded = np.array(data["padded"], dtype=float)
    if data["padding"] == "same":
        assert np.array_equal(padded, pad_same(image[:, :, None], span(data), data["stride"])[:, :, 0])
    else:
        assert np.array_equal(padded, image)
    before, after = expected
    assert padded.shape == (before + n + after,) * 2
    assert not padded[:before].any() and not padded[before + n:].any()  # the padding holds zeros


@pytest.mark.parametrize("name", animation_names())
def test_every_frame_is_one_output_cell_in_order_with_its_window_stride_apart(name):
    data = load(name)
    n, s, d = len(data["input"]), data["stride"], data["dilation"]
    k = data["size"] if data["kind"] == "max_pool" else len(data["kernel"])
    out = conv_output_size(n, k, s, d, tuple(data["pad"]))
    assert np.array(data["output"]).shape == (out, out)
    assert [f["cell"] for f in data["frames"]] == [[i, j] for i in range(out) for j in range(out)]
    side = len(data["padded"])
    for frame in data["frames"]:
        i, j = frame["cell"]
        assert frame["window"] == [i * s, j * s]
        assert frame["window"][0] + span(data) <= side and frame["window"][1] + span(data) <= side
        assert frame["value"] == data["output"][i][j]


@pytest.mark.parametrize("name", animation_names())
def test_each_frame_value_is_recomputed_from_the_files_own_input_and_kernel(name):
    data = load(name)
    padded = np.array(data["padded"], dtype=float)
    s, d = data["stride"], data["dilation"]
    if data["kind"] == "max_pool":
        whole = max_pool2d(np.array(data["input"], dtype=float)[:, :, None], data["size"], s)[:, :, 0]
    else:
        kernel = np.array(data["kernel"], dtype=float)
        weights, bias = kernel[:, :, None, None], np.array([data["bias"]])
        image = np.array(data["input"], dtype=float)[:, :, None]
        whole = (conv2d(image, weights, bias, s, data["padding"]) if d == 1
                 else dilated_conv2d(image, weights, bias, d, s, data["padding"]))[:, :, 0]
    for frame in data["frames"]:
        top, left = frame["window"]
        window = padded[top:top + span(data):d, left:left + span(data):d]
        if data["kind"] == "max_pool":
            by_hand = window.max()
        else:
            by_hand = float((window * kernel).sum() + data["bias"])
        i, j = frame["cell"]
        assert frame["value"] == pytest.approx(by_hand, abs=1e-4), f"frame {frame}"
        assert frame["value"] == pytest.approx(whole[i, j], abs=1e-4), f"frame {frame}"


@pytest.mark.parametrize("name", animation_names())
def test_output_map_is_what_keras_computes_from_the_same_input_and_weights(name):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    data = load(name)
    image = np.array(data["input"], dtype="float32")[None, :, :, None]
    if data["kind"] == "max_pool":
        layer = keras.layers.MaxPooling2D(data["size"], strides=data["stride"], padding=data["padding"])
    else:
        kernel = np.array(data["kernel"], dtype="float32")
        layer = keras.layers.Conv2D(1, kernel.shape[0], strides=data["stride"], dilation_rate=data["dilation"],
                                    padding=data["padding"])
        layer.build(image.shape)
        layer.set_weights([kernel[:, :, None, None], np.array([data["bias"]], dtype="float32")])
    np.testing.assert_allclose(np.asarray(layer(image))[0, :, :, 0], np.array(data["output"]), atol=1e-4)


def test_uneven_same_padding_is_shown_with_nothing_before_and_one_row_after():
    data = load("anim_stride_same")
    assert data["pad"] == [0, 1] and data["stride"] == 2 and len(data["input"]) % 2 == 0
