"""The playground's arithmetic panel (docs/javascripts/unit-arithmetic.mjs) against Keras: for units of every layer
of the published convnet, and of an untrained model with "same" padding, strides, average and global average
pooling and dropout, Keras's values before and after the activation and NumPy's patches, products and sums from
Keras's own layer inputs. They are written to build/js-fixtures/arithmetic/, where `npm test`
(tests/js/unit-arithmetic.test.mjs) checks the module against them; the tests here run that check too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from convnets.shapes import same_padding
from helpers import ROOT
from playground_fixture import PUBLISHED, layer_outputs, published_model

JS_FIXTURE = ROOT / "build" / "js-fixtures" / "arithmetic"  # the folder `npm test` reads by default
FIXTURE_ENV = "ARITHMETIC_FIXTURE"  # names another fixture.json for `node --test tests/js/unit-arithmetic.test.mjs`
NODE_TEST = "tests/js/unit-arithmetic.test.mjs"
NODE_HINT = "node is not on PATH: install Node 20 (https://nodejs.org/) to check the playground's JavaScript"
# The largest difference allowed between the page's and Keras's (or NumPy's) numbers, relative to those larger than 1:
# float32 holds a logit of -40 only to 4e-6, and Keras's own logits of that size can differ from exact arithmetic on
# the same inputs by more than 1e-5
TOLERANCE = 1e-5
SEED = 25
DIGITS = 32  # test digits drawn at random, whose units are checked
LARGEST = 4  # per layer, the unit with the largest value for this many digits...
UNITS_PER_LAYER = {"published": 20, "same padding": 10}  # ...then corners and random units up to this many
TERMS = 24  # a dense unit's largest weight × input terms that are checked one by one
PASSIVE = ("Flatten", "Dropout")  # layers with no arithmetic of their own


def close(ours: float, keras: float) -> bool:
    """Whether a number is Keras's within the tolerance (relative to Keras's value where that is larger than 1)."""
    return abs(ours - keras) <= TOLERANCE * max(1.0, abs(keras))


def same_padding_model():
    """An untrained model with every layer the page runs: "same" padding at stride 2 (uneven), average and
    max pooling with "same" padding, dropout, global average pooling and two dense layers, with random biases."""
    import keras

    keras.utils.set_random_seed(SEED)
    layers = keras.layers
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)  # 28 → 14, pads 0 before, 1 after
    x = layers.Conv2D(12, 3, strides=2, padding="same", activation="relu")(x)  # 14 → 7
    x = layers.AveragePooling2D(2, padding="same")(x)  # 7 → 4: the last row and column average fewer inputs
    x = layers.Dropout(0.5)(x)
    x = layers.MaxPooling2D(3, strides=1, padding="same")(x)  # 4 → 4: one row and column of padding each side
    x = layers.Conv2D(16, 3, padding="same")(x)  # linear
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(SEED)
    model.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype("float32") for w in model.get_weights()])
    return model


def pre_activation(layer, layer_input: np.ndarray) -> np.ndarray:
    """Keras's output of a Conv2D or Dense layer before its activation: a copy of the layer with a linear
    activation and the same weights, on the same input."""
    import keras

    linear = type(layer).from_config({**layer.get_config(), "activation": "linear", "name": f"{layer.name}_linear"})
    linear.build(layer_input.shape)
    linear.set_weights(layer.get_weights())
    return keras.ops.convert_to_numpy(linear(layer_input))


def window_origin(layer, shape: tuple[int, ...], window: tuple[int, int], unit: dict) -> tuple[int, int]:
    """The input row and column where a unit's window starts (negative where "same" pads before the input)."""
    before = [same_padding(n, k, s)[0] if layer.padding == "same" else 0
              for n, k, s in zip(shape[:2], window, layer.strides)]
    return unit["row"] * layer.strides[0] - before[0], unit["column"] * layer.strides[1] - before[1]


def window_values(x: np.ndarray, top: int, left: int, size: tuple[int, int]) -> np.ndarray:
    """The (kh, kw, c) window of an (h, w, c) map at (top, left), NaN where it hangs over the padding."""
    h, w, c = x.shape
    out = np.full((*size, c), np.nan)
    for ky in range(size[0]):
        for kx in range(size[1]):
            if 0 <= top + ky < h and 0 <= left + kx < w:
                out[ky, kx] = x[top + ky, left + kx]
    return out


def flattened_shape(layers: list, index: int) -> tuple[int, ...] | None:
    """The (h, w, c) map that a Flatten before layer `index` flattens, or None (through Dropout layers)."""
    kinds = [type(layer).__name__ for layer in layers[:index]]
    while kinds and kinds[-1] == "Dropout":
        kinds.pop()
    if not kinds or kinds[-1] != "Flatten":
        return None
    shape = tuple(layers[len(kinds) - 1].input.shape[1:])
    return shape if len(shape) == 3 else None


def position(index: int, shape: tuple[int, ...] | None) -> dict | None:
    """The row, column and channel that a flattened input came from, channels last (None without a map)."""
    return dict(zip(("row", "column", "channel"), map(int, np.unravel_index(index, shape)))) if shape else None


def conv_reference(layer, x: np.ndarray, unit: dict, pre: float) -> dict:
    """NumPy's patch, kernel slice, products and sum for each input channel of one Conv2D unit."""
    kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    top, left = window_origin(layer, x.shape, layer.kernel_size, unit)
    patch = np.nan_to_num(window_values(x, top, left, layer.kernel_size))
    weights = kernel[:, :, :, unit["channel"]]
    products = patch * weights
    per_channel = lambda a: a.transpose(2, 0, 1).reshape(x.shape[2], -1).tolist()  # noqa: E731
    sums = products.sum(axis=(0, 1))
    assert close(sums.sum() + bias[unit["channel"]], pre), f"{layer.name} {unit}: NumPy's sum is not Keras's"
    return {"top": top, "left": left, "size": list(layer.kernel_size), "bias": float(bias[unit["channel"]]),
            "patch": per_channel(patch), "kernel": per_channel(weights), "products": per_channel(products),
            "sums": sums.tolist(), "pre": pre}


def pooling_reference(layer, x: np.ndarray, unit: dict, value: float) -> dict:
    """One pooling unit's window (None on the padding), where its largest value is, and how many values it averages."""
    top, left = window_origin(layer, x.shape, layer.pool_size, unit)
    window = window_values(x, top, left, layer.pool_size)[:, :, unit["channel"]].ravel()
    real = window[~np.isnan(window)]
    computed = real.max() if type(layer).__name__ == "MaxPooling2D" else real.mean()
    assert close(computed, value), f"{layer.name} {unit}: NumPy's window is not Keras's"
    best = int(np.nanargmax(window))
    ranked = np.sort(real)[::-1]
    return {"top": top, "left": left, "size": list(layer.pool_size),
            "window": [None if np.isnan(v) else float(v) for v in window], "count": int(real.size),
            "argmax": {"row": top + best // layer.pool_size[1], "column": left + best % layer.pool_size[1]},
            "margin": float(ranked[0] - ranked[1]) if real.size > 1 else None}


def dense_reference(layers: list, index: int, x: np.ndarray, unit: dict, pre: np.ndarray, output: np.ndarray) -> dict:
    """NumPy's largest weight × input terms of one Dense unit, their sums by the flattened map's channel, and
    Keras's logits and softmax when the layer has one."""
    layer = layers[index]
    kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    channel = unit["channel"]
    weights = kernel[:, channel]
    products = x * weights
    spatial = flattened_shape(layers, index)
    order = np.argsort(-np.abs(products), kind="stable")[:TERMS]
    sums = products.reshape(-1, spatial[2]).sum(axis=0) if spatial else np.zeros(0)
    assert close(products.sum() + bias[channel], pre[channel]), f"{layer.name} {unit}: NumPy's sum is not Keras's"
    reference = {"bias": float(bias[channel]), "total": float(products.sum()), "pre": float(pre[channel]),
                 "terms": [{"index": int(i), "input": float(x[i]), "weight": float(weights[i]),
                            "product": float(products[i]), "position": position(i, spatial)} for i in order],
                 "groups": [{"channel": c, "sum": float(sums[c])} for c in range(sums.size)]}
    if layer.get_config()["activation"] == "softmax":
        reference.update(logits=pre.tolist(), probabilities=output.tolist())
    return reference


def choose_units(output: np.ndarray, rng: np.random.Generator, count: int) -> list[tuple[int, tuple[int, ...]]]:
    """(digit, unit) pairs of one layer: the largest unit for a few digits, then for a map the top-left and
    bottom-right corners' largest channel, then random ones, `count` in all."""
    digits = rng.choice(len(output), size=LARGEST, replace=False)
    chosen = [(int(d), np.unravel_index(output[d].argmax(), output.shape[1:])) for d in digits]
    if output.ndim == 4:
        h, w = output.shape[1:3]
        for row, column in ((0, 0), (h - 1, w - 1)):
            d = int(rng.integers(len(output)))
            chosen.append((d, (row, column, int(output[d, row, column].argmax()))))
    while len(chosen) < count:
        d = int(rng.integers(len(output)))
        chosen.append((d, np.unravel_index(rng.integers(output[d].size), output.shape[1:])))
    return [(d, tuple(int(i) for i in unit)) for d, unit in chosen]


def write_units(name: str, manifest: Path, model, inputs: np.ndarray, rng: np.random.Generator) -> dict:
    """Keras's and NumPy's arithmetic for units of every layer of one exported model."""
    layers = model.layers[1:]
    names = [entry["name"] for entry in json.loads(manifest.read_text(encoding="utf-8"))["layers"]]
    outputs = layer_outputs(model, inputs)
    units = []
    for index, (layer, layer_name) in enumerate(zip(layers, names, strict=True)):
        kind = type(layer).__name__
        if kind in PASSIVE:
            continue
        x = inputs if index == 0 else outputs[index - 1]
        pre = pre_activation(layer, x) if kind in ("Conv2D", "Dense") else None
        for digit, at in choose_units(outputs[index], rng, UNITS_PER_LAYER[name]):
            unit = dict(zip(("row", "column", "channel"), at)) if len(at) == 3 else {"channel": at[0]}
            value = float(outputs[index][(digit, *at)])
            entry = {"digit": digit, "layer": index, "name": layer_name, "type": kind, "unit": unit, "value": value}
            if kind == "Conv2D":
                entry |= conv_reference(layer, x[digit], unit, float(pre[(digit, *at)]))
            elif kind in ("MaxPooling2D", "AveragePooling2D"):
                entry |= pooling_reference(layer, x[digit], unit, value)
            elif kind == "GlobalAveragePooling2D":
                total = float(x[digit, ..., at[0]].sum(dtype=np.float64))
                entry |= {"count": int(np.prod(x.shape[1:3])), "total": total}
            else:
                vector = np.asarray(x[digit], np.float64)
                entry |= dense_reference(layers, index, vector, unit, pre[digit], outputs[index][digit])
            units.append(entry)
    return {"name": name, "manifest": str(manifest), "units": units}


def build(folder: Path, mnist) -> Path:
    """Write the fixture (the two models' exports, the digits and the units' references) into `folder`."""
    from convnets.export import export_model
    from convnets.training import prepare_images

    rng = np.random.default_rng(SEED)
    x_test = mnist[1][0]
    chosen = np.sort(rng.choice(len(x_test), size=DIGITS, replace=False))
    inputs = prepare_images(x_test[chosen])
    (folder / "inputs.bin").write_bytes(np.asarray(inputs, "<f4").tobytes())
    published = folder / "published"
    published.mkdir()
    for path in PUBLISHED.parent.glob("convnet.*"):
        shutil.copy(path, published / path.name)
    same = folder / "same-padding"
    same.mkdir()
    model = same_padding_model()
    export_model(model, same / "same.json")
    sets = [write_units("published", published / "convnet.json", published_model(), inputs, rng),
            write_units("same padding", same / "same.json", model, inputs, rng)]
    fixture = {"tolerance": TOLERANCE, "inputs": str(folder / "inputs.bin"), "test_indices": chosen.tolist(),
               "sets": sets, "report": str(folder / "report.json")}
    path = folder / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    return path


def padded_sides(entry: dict) -> set[str]:
    """Which sides' padding the windows of a set's Conv2D units reach over: "before" the input, "after" it, or both."""
    manifest = json.loads(Path(entry["manifest"]).read_text())
    shapes = [manifest["input_shape"], *(layer["output_shape"] for layer in manifest["layers"])]
    sides = set()
    for unit in (u for u in entry["units"] if u["type"] == "Conv2D"):
        h, w = shapes[unit["layer"]][:2]
        if min(unit["top"], unit["left"]) < 0:
            sides.add("before")
        if unit["top"] + unit["size"][0] > h or unit["left"] + unit["size"][1] > w:
            sides.add("after")
    return sides


def run_node(fixture: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, NODE_HINT
    env = dict(os.environ, **{FIXTURE_ENV: str(fixture)})
    return subprocess.run([node, "--test", NODE_TEST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.backends
def test_the_arithmetic_of_units_of_every_layer_matches_keras_in_node(mnist, request):
    """Writes build/js-fixtures/arithmetic/ for `npm test`, and runs that check on it."""
    shutil.rmtree(JS_FIXTURE, ignore_errors=True)
    JS_FIXTURE.mkdir(parents=True)
    fixture = build(JS_FIXTURE, mnist)
    sets = json.loads(fixture.read_text())["sets"]
    for entry in sets:
        manifest = json.loads(Path(entry["manifest"]).read_text())
        arithmetic = {layer["name"] for layer in manifest["layers"] if layer["type"] not in PASSIVE}
        assert {unit["name"] for unit in entry["units"]} == arithmetic, f"{entry['name']}: a layer without units"
    assert len(sets[0]["units"]) >= 100
    assert {"before", "after"} <= padded_sides(sets[1]), "the 'same' units do not reach over both sides' padding"
    result = run_node(fixture)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test {NODE_TEST} failed:\n{output[-6000:]}"
    for entry in sets:
        assert f"checked {len(entry['units'])} units of {entry['name']} against Keras" in output, output[-3000:]
    report = json.loads((JS_FIXTURE / "report.json").read_text())
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for name, entry in report["sets"].items():
            timings = ", ".join(f"{kind} {ms:.3f} ms (slowest {entry['slowest_ms'][kind]:.3f})"
                                for kind, ms in entry["median_ms"].items())
            print(f"\narithmetic panel in Node, {name}: units per layer {entry['pairs']}; median time {timings}")
        relative = report["largest_relative_differences"]
        worst = ", ".join(f"{kind} {entry['diff']:.1e} ({relative[kind]['diff']:.1e} relative to values above 1)"
                          for kind, entry in report["largest_differences"].items())
        print(f"arithmetic panel in Node: largest differences from Keras: {worst}")


def test_the_node_check_fails_loudly_when_a_product_or_a_probability_is_not_keras(mnist, tmp_path):
    """One product of a deep convolution unit and one probability of the reference moved by 1e-3: both are named."""
    fixture = build(tmp_path, mnist)
    data = json.loads(fixture.read_text())
    units = data["sets"][0]["units"]
    deep = next(unit for unit in units if unit["name"] == "conv2d_2")
    deep["products"][5][4] += 1e-3
    dense = next(unit for unit in units if unit["type"] == "Dense")
    dense["probabilities"][3] += 1e-3
    fixture.write_text(json.dumps(data))
    result = run_node(fixture)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the check passed with a reference that is not Keras's"
    assert "the arithmetic panel disagrees with Keras" in output, output[-3000:]
    where = lambda entry: f"at published: digit {entry['digit']}, layer {entry['name']} unit " + \
        json.dumps(entry["unit"], separators=(",", ":"))  # noqa: E731
    assert re.search(r"products differ from Keras by up to \d\.\d\de-[34] \(more than 0\.00001, relative to values "
                     rf"above 1\), {re.escape(where(deep))}, channel 5, products 4\n", output), output[-3000:]
    assert re.search(r"probabilities differ from Keras by up to \d\.\d\de-[34] .*, "
                     rf"{re.escape(where(dense))}, probabilities 3\n", output), output[-3000:]
