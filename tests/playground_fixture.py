"""What Keras computes for the playground's checks: every layer's output of the convnet on the first test digits,
for two exports of it. `node --test` (tests/js/convnet.test.mjs) and Chromium (test_playground_browser.py) run
the page's forward pass on the same digits and compare.

- "cached run": this session's `trained("convnet")`, the chapters' cached run of the book's recipe, exported
  here by convnets.export and compared with that very Keras model;
- "published": the files in snaps/ that the site serves, loaded back into the book's convnet.

`npm test` reads the published set from JS_FIXTURE, which test_playground.py writes without training.
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
LAYER_TOLERANCE = 1e-4  # the largest difference allowed between the page's and Keras's outputs of any layer...
PROBABILITY_TOLERANCE = 1e-5  # ...and of the probabilities
PUBLISHED = SNAPS_DIR / "convnet.json"
FIXTURE_ENV = "PLAYGROUND_FIXTURE"  # names another fixture.json for `node --test tests/js/convnet.test.mjs`
JS_FIXTURE = ROOT / "build" / "js-fixtures" / "playground"  # the folder `npm test` reads by default
SETS = ("cached run", "published")


def layer_outputs(model, inputs: np.ndarray) -> list[np.ndarray]:
    """Each layer's output after the input layer, as Keras computes it for `inputs` (N, 28, 28, 1)."""
    import keras

    probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:]])
    return [np.asarray(output, "<f4") for output in probe.predict(inputs, batch_size=64, verbose=0)]


def write_set(folder: Path, name: str, manifest: Path, model, inputs: np.ndarray) -> dict:
    """Keras's outputs for one export, layer by layer (all digits of a layer together), in folder/reference.bin."""
    outputs = layer_outputs(model, inputs)
    names = [layer["name"] for layer in json.loads(manifest.read_text(encoding="utf-8"))["layers"]]
    layers, offset = [], 0
    for layer_name, output in zip(names, outputs, strict=True):
        layers.append({"name": layer_name, "shape": list(output.shape[1:]), "offset": offset})
        offset += output.size
    (folder / "reference.bin").write_bytes(b"".join(output.tobytes() for output in outputs))
    predicted = outputs[-1].argmax(axis=1)
    return {"name": name, "manifest": str(manifest), "reference": str(folder / "reference.bin"), "layers": layers,
            "predicted": predicted.tolist()}


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


def build(folder: Path, mnist, cached_model=None, cached_record=None, sets: tuple[str, ...] = SETS) -> Path:
    """Write the fixture of the named sets into `folder` and return its fixture.json ("cached run" needs the model)."""
    from convnets.export import export_convnet
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
    box, centre = mnist_geometry(mnist[0][0])
    fixture = {
        "count": CHECKED_DIGITS,
        "tolerances": {"layer": LAYER_TOLERANCE, "probability": PROBABILITY_TOLERANCE},
        "mnist_box": box,
        "mnist_centre": centre,
        "inputs": str(folder / "inputs.bin"),
        "labels": y_test[:CHECKED_DIGITS].tolist(),
        "receptive_fields": receptive_fields([window[1:] for window in window_layers(model)]),
        "sets": written,
        "report": str(folder / "report.json"),
    }
    path = folder / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    return path


@functools.cache
def session_fixture() -> Path:
    """The fixture, built once per test session in a temporary folder."""
    from convnets.named_runs import trained
    from convnets.data import LOCAL_FILE, read_npz

    folder = Path(tempfile.mkdtemp(prefix="playground-fixture-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return build(folder, read_npz(LOCAL_FILE), *trained("convnet"))


def relative_url(fixture: Path, path: str) -> str:
    """A fixture file's path under the fixture folder, with forward slashes (for URLs)."""
    return Path(path).relative_to(fixture.parent).as_posix()
