"""What Keras computes for the playground's checks: every layer's output (and, for Conv2D and Dense, the value
before the activation) on the first test digits. `node --test` (tests/js/convnet.test.mjs) and Chromium
(test_playground_browser.py) run the page's forward pass on the same digits and compare.

The sets, exports of the book's convnet:
- "cached run": this session's `trained("convnet")`, the chapters' cached run of the book's recipe, exported
  here by convnets.export and compared with that very Keras model;
- "published": the files in snaps/ that the site serves, loaded back into the book's convnet.

The architectures, each saved as NAME.keras and exported by the `convnets-export` command's code, as a reader's
own model would be (`export_architectures`): the book's convnet, one with "same" padding and stride-2
convolutions in place of pooling, and one ending in global average pooling.

`npm test` reads JS_FIXTURE, which test_playground.py writes without the cached run.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from convnets.paths import SNAPS_DIR
from helpers import ROOT

CHECKED_DIGITS = 256  # the first digits of the test set
ARCHITECTURES = ("book", "same-stride2", "global-average")  # exported as a reader's own models would be
ARCHITECTURE_DIGITS = 50  # the first of those, for each architecture
ARCHITECTURE_SEED = 25  # the architectures train briefly (TRAINING_DIGITS, one epoch) from this seed
TRAINING_DIGITS = 4000
LAYER_TOLERANCE = 1e-4  # the largest difference allowed between the page's and Keras's outputs of any layer...
PROBABILITY_TOLERANCE = 1e-5  # ...and of the probabilities
PUBLISHED = SNAPS_DIR / "convnet.json"
FIXTURE_ENV = "PLAYGROUND_FIXTURE"  # names another fixture.json for `node --test tests/js/convnet.test.mjs`
JS_FIXTURE = ROOT / "build" / "js-fixtures" / "playground"  # the folder `npm test` reads by default
SETS = ("cached run", "published")


def model_layers(model) -> list:
    """The model's layers after its input."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def layer_outputs(model, inputs: np.ndarray) -> list[np.ndarray]:
    """Each layer's output after the input layer, as Keras computes it for `inputs` (N, 28, 28, 1)."""
    import keras

    probe = keras.Model(model.inputs, [layer.output for layer in model_layers(model)])
    return [np.asarray(output, "<f4") for output in probe.predict(inputs, batch_size=64, verbose=0)]


def pre_activations(model, inputs: np.ndarray, outputs: list[np.ndarray]) -> list[np.ndarray | None]:
    """For each Conv2D and Dense layer, Keras's output before the activation (the same layer with a linear
    activation and the same weights, on the previous layer's output); None for the other layers."""
    import keras

    pre = []
    for layer, x in zip(model_layers(model), [inputs, *outputs[:-1]]):
        if type(layer).__name__ not in ("Conv2D", "Dense"):
            pre.append(None)
            continue
        linear = type(layer).from_config({**layer.get_config(), "activation": "linear"})
        linear.build(x.shape)
        linear.set_weights(layer.get_weights())
        pre.append(np.asarray(keras.ops.convert_to_numpy(linear(x)), "<f4"))
    return pre


def write_set(folder: Path, name: str, manifest: Path, model, inputs: np.ndarray) -> dict:
    """Keras's outputs for one export, layer by layer (all digits of a layer together), then the values before
    the activations, in folder/reference.bin."""
    outputs = layer_outputs(model, inputs)
    pre = pre_activations(model, inputs, outputs)
    names = [layer["name"] for layer in json.loads(manifest.read_text(encoding="utf-8"))["layers"]]
    layers, offset = [], 0
    for layer_name, output in zip(names, outputs, strict=True):
        layers.append({"name": layer_name, "shape": list(output.shape[1:]), "offset": offset})
        offset += output.size
    for layer, values in zip(layers, pre):
        if values is not None:
            layer["pre_offset"] = offset
            offset += values.size
    arrays = [*outputs, *(values for values in pre if values is not None)]
    (folder / "reference.bin").write_bytes(b"".join(array.tobytes() for array in arrays))
    predicted = outputs[-1].argmax(axis=1)
    return {"name": name, "manifest": str(manifest), "reference": str(folder / "reference.bin"), "layers": layers,
            "count": len(inputs), "predicted": predicted.tolist()}


def mnist_geometry(images: np.ndarray) -> tuple[int, float]:
    """The longer side of the ink's bounding box that most MNIST digits have, and the mean centre of mass
    (row and column together): the box and the centre the page's preprocessing (digit-image.mjs) must use."""
    ink = images > 0
    rows, columns = ink.any(axis=2), ink.any(axis=1)
    span = lambda present: present.shape[1] - present[:, ::-1].argmax(axis=1) - present.argmax(axis=1)  # noqa: E731
    longer = np.maximum(span(rows), span(columns))
    mass = images.sum(axis=(1, 2), dtype=np.float64)
    index = np.arange(images.shape[1])
    centres = np.concatenate([images.sum(axis=2) @ index / mass, images.sum(axis=1) @ index / mass])
    return int(np.bincount(longer).argmax()), float(centres.mean())


def published_model():
    """The book's convnet holding the weights the site serves (checked against their manifest first)."""
    from convnets.export import read_export
    from convnets.models import build_convnet

    _, weights, _ = read_export(PUBLISHED)
    model = build_convnet()
    model.set_weights(weights)
    return model


def architecture_models() -> dict:
    """The ARCHITECTURES to export, untrained: name → model. Their "same" layers at stride 2 pad 28 and 14 pixels
    unevenly (one more after) and 7 evenly, and the last one averages windows that hang over a map's edge."""
    import keras
    from convnets.models import build_convnet

    layers = keras.layers

    def chain(*stack) -> keras.Model:
        x = inputs = keras.Input(shape=(28, 28, 1))
        for layer in stack:
            x = layer(x)
        return keras.Model(inputs, x)

    return {
        "book": build_convnet(),
        "same-stride2": chain(
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),  # 28 → 14, padding 0 before, 1 after
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),  # 14 → 7, padding 0 before, 1 after
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),  # 7 → 4, padding 1 before, 1 after
            layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")),
        "global-average": chain(
            layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"), layers.AveragePooling2D(2, padding="same"),  # 11 → 6
            layers.Conv2D(64, 3, activation="relu"), layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax")),
    }


def export_architectures(folder: Path, mnist) -> dict[str, Path]:
    """Each architecture in folder/NAME/: NAME.keras (the book's convnet with the published weights, the others
    trained for one epoch on the first training digits from a fixed seed) and NAME.json + NAME.weights.bin
    written from that file by the `convnets-export` command's code. Returns name → manifest."""
    import keras
    from convnets.export_command import export_file
    from convnets.training import prepare_images

    (x_train, y_train), _ = mnist
    keras.utils.set_random_seed(ARCHITECTURE_SEED)  # the initial weights and the order of the training digits
    manifests = {}
    for name, model in architecture_models().items():
        if name == "book":
            model.set_weights(published_model().get_weights())
        else:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            model.fit(prepare_images(x_train[:TRAINING_DIGITS]), y_train[:TRAINING_DIGITS], epochs=1, batch_size=64,
                      verbose=0)
        sub = folder / name
        sub.mkdir(parents=True, exist_ok=True)
        model.save(sub / f"{name}.keras")
        manifests[name] = export_file(sub / f"{name}.keras", sub)
    return manifests


def build(folder: Path, mnist, cached_model=None, cached_record=None, sets: tuple[str, ...] = SETS,
          architectures: bool = False) -> Path:
    """Write the fixture of the named sets (and of the architectures) into `folder` and return its fixture.json
    ("cached run" needs the model)."""
    from convnets.export import export_convnet
    from convnets.models import build_convnet
    from convnets.shapes import receptive_fields, window_layers
    from convnets.training import prepare_images

    (x_test, y_test) = mnist[1]
    inputs = prepare_images(x_test[:CHECKED_DIGITS])
    (folder / "inputs.bin").write_bytes(np.asarray(inputs, "<f4").tobytes())
    written = []
    for name in sets:
        sub = folder / name.replace(" ", "-")
        sub.mkdir()
        if name == "published":
            for path in PUBLISHED.parent.glob("convnet.*"):
                shutil.copy(path, sub / path.name)
            model = published_model()
        else:
            model = cached_model
            export_convnet(model, cached_record, x_test, y_test, sub / "convnet.json")
        written.append(write_set(sub, name, sub / "convnet.json", model, inputs))
    exported = []
    if architectures:
        import keras

        for name, session_manifest in session_architectures().items():
            manifest = Path(shutil.copytree(session_manifest.parent, folder / "architectures" / name)) / session_manifest.name
            saved = keras.saving.load_model(manifest.with_suffix(".keras"))
            entry = write_set(manifest.parent, name, manifest, saved, inputs[:ARCHITECTURE_DIGITS])
            entry["receptive_fields"] = receptive_fields([window[1:] for window in window_layers(saved)])
            exported.append(entry)
    box, centre = mnist_geometry(mnist[0][0])
    fixture = {
        "count": CHECKED_DIGITS,
        "tolerances": {"layer": LAYER_TOLERANCE, "probability": PROBABILITY_TOLERANCE},
        "mnist_box": box,
        "mnist_centre": centre,
        "inputs": str(folder / "inputs.bin"),
        "labels": y_test[:CHECKED_DIGITS].tolist(),
        "receptive_fields": receptive_fields([window[1:] for window in window_layers(build_convnet())]),
        "sets": written,
        "architectures": exported,
        "report": str(folder / "report.json"),
    }
    path = folder / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    return path


@functools.cache
def session_fixture() -> Path:
    """The fixture, with the architectures, built once per test session in a temporary folder."""
    from convnets.named_runs import trained
    from convnets.data import LOCAL_FILE, read_npz

    return build(session_folder("playground-fixture-"), read_npz(LOCAL_FILE), *trained("convnet"), architectures=True)


@functools.cache
def session_architectures() -> dict[str, Path]:
    """The architectures, trained and exported once per test session (name → manifest): `build` copies them."""
    from convnets.data import LOCAL_FILE, read_npz

    return export_architectures(session_folder("playground-architectures-"), read_npz(LOCAL_FILE))


def session_folder(prefix: str) -> Path:
    """A temporary folder, removed when the test session ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def relative_url(fixture: Path, path: str) -> str:
    """A fixture file's path under the fixture folder, with forward slashes (for URLs)."""
    return Path(path).relative_to(fixture.parent).as_posix()
