"""The playground's network (docs/playground.md): the export in convnets.export holds exactly the cached model's
weights, the files the site serves are whole and score the accuracy they record, and the page's JavaScript
forward pass (docs/javascripts/convnet.mjs) matches Keras on every layer of 256 test digits under Node: `npm test`
for the published export, from the Keras reference written here into build/js-fixtures/, and `node --test` run
here for the cached model's export; and on 50 digits of three architectures exported as a reader's own models
(the book's convnet, one with "same" padding and stride-2 convolutions, one ending in global average pooling).
Chromium checks the same module again on the live page (test_playground_browser.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from convnets.export import FIRST_DIGITS, ExportError, export_convnet, read_export
from helpers import ROOT
from playground_fixture import ARCHITECTURE_DIGITS, ARCHITECTURES, CHECKED_DIGITS, FIXTURE_ENV, JS_FIXTURE, PUBLISHED, build, \
    layer_outputs, published_model, session_architectures, write_set

REPORT = ROOT / "build" / "playground-keras-report.json"
NODE_TEST = "tests/js/convnet.test.mjs"
SETS_TEST = "every layer of every export matches Keras"  # the Node test of the fixture's sets (the book's convnet)
NODE_HINT = "node is not on PATH: install Node 20 (https://nodejs.org/) to check the playground's JavaScript"


@pytest.fixture(scope="module")
def cached():
    """The chapters' cached run of the book's recipe (trained once per session), and its record."""
    from convnets.named_runs import trained

    return trained("convnet")


def run_node(fixture) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, NODE_HINT
    env = dict(os.environ, **{FIXTURE_ENV: str(fixture)})
    return subprocess.run([node, "--test", f"--test-name-pattern={SETS_TEST}", NODE_TEST], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_export_holds_every_weight_of_the_cached_model_in_layer_order(cached, mnist, tmp_path):
    model, record = cached
    written = export_convnet(model, record, *mnist[1], tmp_path / "convnet.json")
    manifest, weights, digits = read_export(tmp_path / "convnet.json")
    assert manifest == written
    assert len(weights) == len(model.get_weights())
    assert all(np.array_equal(ours, keras) for ours, keras in zip(weights, model.get_weights()))
    assert manifest["parameters"] == model.count_params() and manifest["weights"]["bytes"] == 4 * model.count_params()
    assert [layer["name"] for layer in manifest["layers"]] == [layer.name for layer in model.layers[1:]]
    assert [layer["output_shape"] for layer in manifest["layers"]] == [list(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert (manifest["model"], manifest["recipe"], manifest["test_accuracy"]) == ("convnet", "book", round(record["test_accuracy"], 4))
    assert abs(manifest["test_accuracy_recounted"] - record["test_accuracy"]) < 1.5e-4  # one digit of 10,000
    x_test, y_test = mnist[1]
    chosen = manifest["digits"]["test_indices"]
    assert chosen[:FIRST_DIGITS] == list(range(FIRST_DIGITS))
    assert np.array_equal(digits, x_test[chosen]) and manifest["digits"]["labels"] == y_test[chosen].tolist()
    misread = [i for i, (label, guess) in enumerate(zip(manifest["digits"]["labels"], manifest["digits"]["predicted"]))
               if label != guess]
    assert len(misread) > 10, "the page's 'A digit it misreads' button needs digits the network misreads"


def test_published_export_is_the_book_recipe_whole_and_scores_the_accuracy_it_records(mnist):
    from convnets.models import build_convnet
    from convnets.recipes import RECIPES
    from convnets.training import prepare_images

    manifest, _, digits = read_export(PUBLISHED)
    assert (manifest["model"], manifest["recipe"], manifest["epochs"]) == ("convnet", "book", RECIPES["book"].epochs)
    assert manifest["parameters"] == build_convnet().count_params()
    model = published_model()
    x_test, y_test = mnist[1]
    predicted = model.predict(prepare_images(x_test), batch_size=1000, verbose=0).argmax(axis=1)
    assert abs(np.mean(predicted == y_test) - manifest["test_accuracy"]) < 1.5e-4
    assert predicted[manifest["digits"]["test_indices"]].tolist() == manifest["digits"]["predicted"]
    assert np.array_equal(digits, x_test[manifest["digits"]["test_indices"]])


@pytest.fixture
def published_copy(tmp_path):
    for path in PUBLISHED.parent.glob("convnet.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "convnet.json"


@pytest.mark.parametrize("damage, message", [
    ("truncate", r"convnet\.weights\.bin: \d+ bytes where the manifest says \d+: cut short or replaced"),
    ("flip", r"convnet\.weights\.bin: its SHA-256 is not the manifest's"),
    ("delete", r"convnet\.weights\.bin: cannot read it"),
    ("format", r"convnet\.json: format 'other/1', expected 'convnets-browser-weights/1'"),
])
def test_reading_the_export_refuses_a_file_cut_short_changed_or_missing(published_copy, damage, message):
    weights = published_copy.with_name("convnet.weights.bin")
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:-4])
    elif damage == "flip":
        data = bytearray(weights.read_bytes())
        data[1000] ^= 1
        weights.write_bytes(bytes(data))
    elif damage == "delete":
        weights.unlink()
    else:
        manifest = json.loads(published_copy.read_text())
        published_copy.write_text(json.dumps({**manifest, "format": "other/1"}))
    with pytest.raises(ExportError, match=message):
        read_export(published_copy)


@pytest.mark.parametrize("layer, message", [
    ("dilated", r"layer dilated \(Conv2D\): dilation rate \(2, 2\): the playground runs convolutions without dilation"),
    ("norm", r"layer norm \(BatchNormalization\): the playground cannot run this type of layer"),
])
def test_export_refuses_a_layer_the_page_cannot_run_and_writes_nothing(mnist, tmp_path, layer, message):
    import keras

    inputs = keras.Input(shape=(28, 28, 1))
    if layer == "dilated":
        x = keras.layers.Conv2D(4, 3, dilation_rate=2, name="dilated")(inputs)
    else:
        x = keras.layers.BatchNormalization(name="norm")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    record = {"settings": {"model": "toy"}, "recipe": {"name": "book", "epochs": 1}, "keras": "3", "test_accuracy": 0.1}
    with pytest.raises(ExportError, match=message):
        export_convnet(keras.Model(inputs, outputs), record, *mnist[1], tmp_path / "toy.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # trains a small convnet through make_figures --quick
def test_make_figures_writes_the_playground_files(tmp_path):
    from make_figures import main

    assert main(["--only", "convnet", "--quick", "--output", str(tmp_path)]) == 0
    manifest, weights, digits = read_export(tmp_path / "convnet.json")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["convnet.digits.bin", "convnet.json", "convnet.weights.bin"]
    assert len(digits) == manifest["digits"]["count"] and sum(w.size for w in weights) == manifest["parameters"]


@pytest.mark.backends
def test_keras_reference_for_npm_test_holds_every_layer_of_the_published_export_and_the_three_architectures(mnist):
    """Writes build/js-fixtures/playground/: `npm test` checks the page's forward pass against it."""
    import keras

    shutil.rmtree(JS_FIXTURE, ignore_errors=True)
    JS_FIXTURE.mkdir(parents=True)
    fixture = json.loads(build(JS_FIXTURE, mnist, sets=("published",), architectures=True).read_text())
    manifest = json.loads(PUBLISHED.read_text())
    (published,) = fixture["sets"]
    assert [layer["shape"] for layer in published["layers"]] == [layer["output_shape"] for layer in manifest["layers"]]
    assert published["predicted"][:FIRST_DIGITS] == manifest["digits"]["predicted"][:FIRST_DIGITS]
    assert [entry["name"] for entry in fixture["architectures"]] == list(ARCHITECTURES)
    for entry in [published, *fixture["architectures"]]:
        exported = json.loads(Path(entry["manifest"]).read_text())
        assert [layer["shape"] for layer in entry["layers"]] == [layer["output_shape"] for layer in exported["layers"]]
        assert [layer["name"] for layer in entry["layers"] if "pre_offset" in layer] == \
            [layer["name"] for layer in exported["layers"] if layer["type"] in ("Conv2D", "Dense")]
        values = sum(int(np.prod(layer["shape"])) * (1 + ("pre_offset" in layer)) for layer in entry["layers"])
        assert Path(entry["reference"]).stat().st_size == 4 * entry["count"] * values
    assert [entry["count"] for entry in fixture["architectures"]] == [ARCHITECTURE_DIGITS] * 3
    book = keras.saving.load_model(Path(fixture["architectures"][0]["manifest"]).with_suffix(".keras"))
    assert all(np.array_equal(a, b) for a, b in zip(book.get_weights(), published_model().get_weights()))


def test_the_architectures_are_exported_as_the_command_would_with_their_padding_strides_and_pooling():
    import keras

    manifests = session_architectures()
    assert list(manifests) == list(ARCHITECTURES)
    for name, path in manifests.items():
        manifest, weights, digits = read_export(path)
        model = keras.saving.load_model(path.with_suffix(".keras"))
        assert digits is None and "digits" not in manifest
        assert len(weights) == len(model.get_weights())
        assert all(np.array_equal(ours, theirs) for ours, theirs in zip(weights, model.get_weights()))
        assert sorted(p.name for p in path.parent.iterdir()) == [f"{name}.json", f"{name}.keras", f"{name}.weights.bin"]
    layers = lambda name: json.loads(manifests[name].read_text())["layers"]  # noqa: E731
    strided = [layer for layer in layers("same-stride2") if layer["type"] == "Conv2D" and layer["strides"] == [2, 2]]
    assert len(strided) >= 2 and all(layer["padding"] == "same" for layer in strided)
    assert not any("Pooling" in layer["type"] for layer in layers("same-stride2"))
    kinds = [layer["type"] for layer in layers("global-average")]
    assert kinds[-2:] == ["GlobalAveragePooling2D", "Dense"] and "AveragePooling2D" in kinds


@pytest.mark.slow
@pytest.mark.backends
def test_the_pages_forward_pass_matches_keras_on_every_layer_of_the_cached_models_export_in_node(
        cached, mnist, tmp_path, request):
    fixture = build(tmp_path, mnist, *cached, sets=("cached run",))
    result = run_node(fixture)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test {NODE_TEST} failed:\n{output[-6000:]}"
    assert f"checked {CHECKED_DIGITS} digits of cached run against Keras" in output, output[-3000:]
    report = json.loads((fixture.parent / "report.json").read_text())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for name, entry in report.items():
            worst = ", ".join(f"{layer} {diff:.1e}" for layer, diff in entry["layers"].items())
            print(f"\nplayground in Node, {name}: {entry['digits']} digits, same class for {entry['same_class']}; "
                  f"largest differences from Keras: {worst}")


def test_the_node_check_fails_loudly_when_the_weights_and_the_keras_model_disagree(mnist, tmp_path):
    """The reference comes from the published model with one first-layer weight moved by 0.05: the check must fail."""
    import keras

    model = published_model()
    fixture = build(tmp_path, mnist, sets=("published",))
    other = keras.models.clone_model(model)
    weights = [w.copy() for w in model.get_weights()]
    weights[0][1, 1, 0, 0] += 0.05
    other.set_weights(weights)
    data = json.loads(fixture.read_text())
    published = data["sets"][0]
    inputs = np.frombuffer((tmp_path / "inputs.bin").read_bytes(), "<f4").reshape(-1, 28, 28, 1)
    data["sets"] = [write_set(tmp_path / "published", "published", tmp_path / "published" / "convnet.json", other, inputs)]
    assert data["sets"][0]["layers"] == published["layers"]
    fixture.write_text(json.dumps(data))
    result = run_node(fixture)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the check passed with weights that are not the Keras model's"
    assert "published: layer conv2d" in output and "differs from Keras by up to" in output, output[-3000:]
    assert "re-export them with `make figures ARGS=\"--only convnet\"`" in output


def test_more_than_half_of_every_layers_inputs_are_zero_for_the_test_digits(mnist):
    """The playground page says so, to explain why its convolution skips zero inputs."""
    from convnets.training import prepare_images

    inputs = prepare_images(mnist[1][0][:CHECKED_DIGITS])
    outputs = layer_outputs(published_model(), inputs)
    layer_inputs = [inputs, *outputs[:-1]]  # what each layer receives
    shares = [float(np.mean(x == 0)) for x in layer_inputs]
    assert min(shares) > 0.5, shares


def test_keras_layer_outputs_cover_every_layer_after_the_input(cached, mnist):
    model, _ = cached
    outputs = layer_outputs(model, mnist[1][0][:2, :, :, None].astype("float32") / 255)
    assert [o.shape[1:] for o in outputs] == [tuple(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert np.allclose(outputs[-1].sum(axis=1), 1, atol=1e-5)
