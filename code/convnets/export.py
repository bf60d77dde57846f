"""The trained convnet for the playground page (docs/playground.md): its weights in one little-endian float32
file, a JSON manifest that describes the layers and checks that file, and the test digits the page offers.

The page's forward pass (docs/javascripts/convnet.mjs) reads exactly what this module writes; `read_export`
is the same reading in Python, for the tests and for anyone who wants the weights back in Keras.
"""

from __future__ import annotations

# --8<-- [start:imports]
import json
from pathlib import Path

import numpy as np

from convnets.data import sha256
# --8<-- [end:imports]

from convnets.atomic import atomic_path
from convnets.run_files import write_json
from convnets.training import prepare_images

FORMAT = "convnets-browser-weights/1"
WEIGHTS_SUFFIX = ".weights.bin"
DIGITS_SUFFIX = ".digits.bin"
FIRST_DIGITS = 100  # the page offers the test set's first 100 digits...
MISREAD_DIGITS = 40  # ...and up to 40 of those the network misreads
ACTIVATIONS = {"Conv2D": ("relu", "linear"), "Dense": ("relu", "linear", "softmax")}


class ExportError(ValueError):
    """A model the page cannot run, or exported files that do not hold what their manifest says."""


def _require(condition: bool, layer, what: str) -> None:
    if not condition:
        raise ExportError(f"layer {layer.name} ({type(layer).__name__}): the playground cannot run {what}")


def describe_layer(layer) -> dict:
    """The manifest's entry for one layer: its kind, its settings and its output shape (without the batch)."""
    kind = type(layer).__name__
    entry = {"name": layer.name, "type": kind, "output_shape": [int(n) for n in layer.output.shape[1:]]}
    if kind == "Conv2D":
        _require(layer.padding == "valid" and tuple(layer.dilation_rate) == (1, 1), layer,
                 f"padding {layer.padding!r} with dilation {layer.dilation_rate}, only 'valid' without dilation")
        _require(layer.groups == 1 and layer.use_bias, layer, "grouped convolutions or one without a bias")
        entry.update(filters=layer.filters, kernel_size=list(layer.kernel_size), strides=list(layer.strides))
    elif kind == "MaxPooling2D":
        _require(layer.padding == "valid", layer, f"padding {layer.padding!r}, only 'valid'")
        entry.update(pool_size=list(layer.pool_size), strides=list(layer.strides))
    elif kind == "Dense":
        _require(layer.use_bias, layer, "a Dense layer without a bias")
        entry.update(units=layer.units)
    elif kind != "Flatten":
        raise ExportError(f"layer {layer.name}: the playground cannot run {kind} layers")
    if kind in ACTIVATIONS:
        activation = layer.activation.__name__
        _require(activation in ACTIVATIONS[kind], layer, f"the activation {activation!r}")
        entry["activation"] = activation
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ExportError(f"layer {layer.name}: the playground reads channels-last data only")
    return entry


def digit_choice(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Test-set indices of the page's digits: the first ones, then some the network misreads after them."""
    misread = np.flatnonzero(predicted != labels)
    return np.concatenate([np.arange(FIRST_DIGITS), misread[misread >= FIRST_DIGITS][:MISREAD_DIGITS]])


def export_convnet(model, record: dict, test_images: np.ndarray, test_labels: np.ndarray, manifest: Path) -> dict:
    """Write NAME.json, NAME.weights.bin and NAME.digits.bin (manifest last) from a trained model and its record."""
    if tuple(model.input.shape[1:]) != test_images.shape[1:] + (1,):
        raise ExportError(f"the model takes {tuple(model.input.shape[1:])} inputs, not the {test_images.shape[1:]} digits")
    layers, arrays, offset = [], [], 0
    for layer in model.layers[1:]:  # the first is the InputLayer
        entry = describe_layer(layer)
        entry["weights"] = []
        for variable, value in zip(layer.weights, layer.get_weights()):
            entry["weights"].append({"name": variable.name, "shape": list(value.shape), "offset": offset})
            arrays.append(np.asarray(value, "<f4").ravel())
            offset += value.size
        layers.append(entry)
    weights = np.concatenate(arrays).tobytes()
    if offset != model.count_params():
        raise ExportError(f"exported {offset} parameters of the model's {model.count_params()}")

    predicted = model.predict(prepare_images(test_images), batch_size=1000, verbose=0).argmax(axis=1)
    chosen = digit_choice(predicted, test_labels)
    digits = np.ascontiguousarray(test_images[chosen], dtype=np.uint8).tobytes()

    stem = manifest.name.removesuffix(".json")
    files = {"weights": (manifest.with_name(stem + WEIGHTS_SUFFIX), weights),
             "digits": (manifest.with_name(stem + DIGITS_SUFFIX), digits)}
    for path, data in files.values():
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    description = {
        "format": FORMAT,
        "model": record["settings"]["model"],
        "recipe": record["recipe"]["name"],
        "epochs": record["recipe"]["epochs"],
        "keras": record["keras"],
        "parameters": offset,
        "test_accuracy": round(record["test_accuracy"], 4),
        "test_accuracy_recounted": float(np.mean(predicted == test_labels)),
        "input_shape": list(model.input.shape[1:]),
        "input_scale": 1 / 255,
        "layers": layers,
        "weights": {"file": files["weights"][0].name, "bytes": len(weights), "sha256": sha256(weights),
                    "dtype": "float32", "byte_order": "little"},
        "digits": {"file": files["digits"][0].name, "bytes": len(digits), "sha256": sha256(digits), "dtype": "uint8",
                   "count": len(chosen), "shape": list(test_images.shape[1:]), "test_indices": chosen.tolist(),
                   "labels": test_labels[chosen].tolist(), "predicted": predicted[chosen].tolist()},
    }
    write_json(manifest, description)
    return description


# --8<-- [start:read_export]
def _read_checked(folder: Path, entry: dict) -> bytes:
    """The bytes of a file the manifest lists, refused unless its size and SHA-256 are the manifest's."""
    path = folder / entry["file"]
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ExportError(f"{path}: cannot read it ({error.strerror})") from None
    if len(data) != entry["bytes"]:
        raise ExportError(f"{path}: {len(data)} bytes where the manifest says {entry['bytes']}: cut short or replaced")
    if sha256(data) != entry["sha256"]:
        raise ExportError(f"{path}: its SHA-256 is not the manifest's: the file changed after it was exported")
    return data


def read_export(manifest: Path) -> tuple[dict, list[np.ndarray], np.ndarray]:
    """The manifest, the weight arrays in layer order and the digits (uint8), each file checked first."""
    try:
        description = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExportError(f"{manifest}: not a readable manifest ({error})") from None
    if description.get("format") != FORMAT:
        raise ExportError(f"{manifest}: format {description.get('format')!r}, expected {FORMAT!r}")
    flat = np.frombuffer(_read_checked(manifest.parent, description["weights"]), "<f4")
    weights = [flat[w["offset"]:w["offset"] + int(np.prod(w["shape"]))].reshape(w["shape"])
               for layer in description["layers"] for w in layer["weights"]]
    count, shape = description["digits"]["count"], description["digits"]["shape"]
    digits = np.frombuffer(_read_checked(manifest.parent, description["digits"]), np.uint8).reshape(count, *shape)
    return description, weights, digits
# --8<-- [end:read_export]
