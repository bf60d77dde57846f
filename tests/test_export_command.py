"""The `convnets-export` command (code/convnets/export_command.py): a saved Keras model becomes the manifest and
weights file that the playground's "Load your own model" reads, holding exactly the model's weights; a model the
page cannot run, or a file that is not a model, gets one line and exit 2, and nothing is written."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convnets.export import ExportError, read_export
from convnets.export_command import export_file, main
from helpers import ONEDNN_PATHS, ROOT, script_env

COMMAND = Path(sys.executable).with_name("convnets-export")  # the console script of the editable install


def small_models() -> dict:
    """Models of every layer the page runs, untrained (their weights are random, which is all the export needs),
    and models it refuses: name → model."""
    import keras

    layers = keras.layers
    keras.utils.set_random_seed(0)

    def chain(*stack, shape=(28, 28, 1)) -> keras.Model:
        x = inputs = keras.Input(shape=shape)
        for layer in stack:
            x = layer(x)
        return keras.Model(inputs, x)

    shared = layers.Dense(16, name="shared")
    return {
        "every_layer": chain(
            layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            layers.MaxPooling2D(2, padding="same"), layers.Conv2D(6, (3, 2), activation="linear"),
            layers.AveragePooling2D(2, strides=1), layers.Dropout(0.2), layers.Conv2D(8, 1),
            layers.GlobalAveragePooling2D(), layers.Dense(12, activation="relu"),
            layers.Dense(10, activation="softmax")),
        "sequential": keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(3, 5, activation="relu"),
                                        layers.AveragePooling2D(3, padding="same"), layers.Flatten(),
                                        layers.Dense(10)]),
        "normalised": chain(layers.Conv2D(4, 3), layers.BatchNormalization(name="norm"), layers.Flatten(),
                            layers.Dense(10)),
        "dilated": chain(layers.Conv2D(4, 3, dilation_rate=2, name="wide"), layers.Flatten(), layers.Dense(10)),
        "large_input": chain(layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(10), shape=(32, 32, 1)),
        "tanh": chain(layers.Conv2D(4, 3, activation="tanh", name="curved"), layers.Flatten(), layers.Dense(10)),
        "unflattened": chain(layers.Conv2D(4, 3), layers.Dense(10, name="spatial")),
        "shared_layer": chain(layers.Flatten(), layers.Dense(16), shared, shared),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """Each small model saved as NAME.keras, and a file that is not a model: name → path."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, model in small_models().items():
        paths[name] = folder / f"{name}.keras"
        model.save(paths[name])
    paths["not_a_model"] = folder / "not_a_model.keras"
    paths["not_a_model"].write_bytes(b"these bytes are not a zip archive")
    return paths


REFUSALS = {
    "normalised": r"layer norm \(BatchNormalization\): the playground cannot run this type of layer; it runs Conv2D, "
                  r"MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout and Dense",
    "dilated": r"layer wide \(Conv2D\): dilation rate \(2, 2\): the playground runs convolutions without dilation",
    "large_input": r"the model takes 32×32×1 inputs: the playground runs models on 28×28×1 digits",
    "tanh": r"layer curved \(Conv2D\): activation 'tanh': the playground runs relu, linear on a Conv2D layer",
    "unflattened": r"layer spatial \(Dense\): an input of shape \(26, 26, 4\): "
                   r"put a Flatten or GlobalAveragePooling2D before it",
    "shared_layer": r"the model is not one chain of layers, each taking the previous one's output",
    "not_a_model": r"not_a_model\.keras: not a Keras model that loads \(",
}


@pytest.mark.parametrize("name", ["every_layer", "sequential"])
def test_the_export_reads_back_into_the_saved_models_weights_layers_and_settings(saved, tmp_path, name):
    import keras

    manifest_path = export_file(saved[name], tmp_path / "out")
    assert manifest_path == tmp_path / "out" / f"{name}.json"
    assert sorted(p.name for p in manifest_path.parent.iterdir()) == [f"{name}.json", f"{name}.weights.bin"]
    manifest, weights, digits = read_export(manifest_path)
    model = keras.saving.load_model(saved[name])
    assert digits is None and manifest["model"] == name and manifest["input_shape"] == [28, 28, 1]
    assert len(weights) == len(model.get_weights())
    assert all(np.array_equal(ours, keras_weights) for ours, keras_weights in zip(weights, model.get_weights()))
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert [(entry["name"], entry["type"]) for entry in manifest["layers"]] == \
        [(layer.name, type(layer).__name__) for layer in layers]
    assert [entry["output_shape"] for entry in manifest["layers"]] == [list(layer.output.shape[1:]) for layer in layers]
    for entry, layer in zip(manifest["layers"], layers):
        for setting in ("padding", "strides", "kernel_size", "pool_size", "filters", "units"):
            if setting in entry:
                value = getattr(layer, setting)
                assert entry[setting] == (list(value) if isinstance(value, tuple) else value), (layer.name, setting)
    data = manifest_path.with_name(manifest["weights"]["file"]).read_bytes()
    assert manifest["weights"]["bytes"] == len(data)
    assert manifest["weights"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["parameters"] == model.count_params()


@pytest.mark.parametrize("name", REFUSALS)
def test_a_model_the_page_cannot_run_is_refused_by_name_and_nothing_is_written(saved, tmp_path, name):
    with pytest.raises(ExportError, match=REFUSALS[name]) as refusal:
        export_file(saved[name], tmp_path / "out")
    assert "\n" not in str(refusal.value)
    assert not (tmp_path / "out").exists()


def test_a_missing_model_file_is_one_line_and_exit_2_before_keras_loads(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main([str(tmp_path / "nothing.keras"), str(tmp_path / "out")])
    assert exit_status.value.code == 2
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and line.rstrip().endswith(f"error: no model file at {tmp_path / 'nothing.keras'}")
    assert not (tmp_path / "out").exists()


def run_command(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the installed `convnets-export` console script."""
    assert COMMAND.exists(), f"{COMMAND} is missing: reinstall the package (make setup)"
    return subprocess.run([str(COMMAND), *args], cwd=ROOT, env=script_env(**env), capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow  # starts the command in a new process, which loads TensorFlow
@pytest.mark.parametrize("onednn", ONEDNN_PATHS, ids=lambda path: f"onednn-{'on' if path == '1' else 'off'}")
def test_the_command_exports_quietly_and_says_where(saved, tmp_path, onednn):
    result = run_command(str(saved["every_layer"]), str(tmp_path / "out"), TF_ENABLE_ONEDNN_OPTS=onednn)
    assert result.returncode == 0 and result.stderr == "", result.stderr[-3000:]
    manifest = tmp_path / "out" / "every_layer.json"
    weights = manifest.with_name("every_layer.weights.bin")
    assert result.stdout == f"wrote {manifest} and {weights}: load both in the playground\n"
    assert json.loads(manifest.read_text())["parameters"] == sum(w.size for w in read_export(manifest)[1])


@pytest.mark.slow  # starts the command in a new process, which loads TensorFlow (each refusal is checked above)
@pytest.mark.parametrize("onednn", ONEDNN_PATHS, ids=lambda path: f"onednn-{'on' if path == '1' else 'off'}")
@pytest.mark.parametrize("name", ["normalised", "not_a_model"])
def test_the_command_refuses_in_one_line_with_exit_2_and_writes_nothing(saved, tmp_path, name, onednn):
    result = run_command(str(saved[name]), str(tmp_path / "out"), TF_ENABLE_ONEDNN_OPTS=onednn)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("convnets-export: error: "), result.stderr[-3000:]
    assert re.search(REFUSALS[name], lines[0]), lines[0]
    assert result.stdout == "" and not (tmp_path / "out").exists()
