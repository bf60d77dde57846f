"""Trained convnets for the playground page (docs/playground.md): the weights in one little-endian float32 file,
a JSON manifest that describes the layers and checks that file, and, for the book's convnet, the test digits the
page offers.

`export_convnet` writes the book's model with its digits (make figures); `export_model` writes any model the page
can run, without digits (the `convnets-export` command). The page's forward pass (docs/javascripts/convnet.mjs)
reads exactly what this module writes; `read_export` is the same reading in Python, for the tests and for anyone
who wants the weights back in Keras.
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

FORMAT = "convnets-browser-weights/1"
WEIGHTS_SUFFIX = ".weights.bin"
DIGITS_SUFFIX = ".digits.bin"
INPUT_SHAPE = (28, 28, 1)  # the page draws MNIST-sized digits, one channel
INPUT_SCALE = 1 / 255  # the page scales pixels as convnets.training.prepare_images does
FIRST_DIGITS = 100  # the page offers the test set's first 100 digits...
MISREAD_DIGITS = 40  # ...and up to 40 of those the network misreads
ACTIVATIONS = {"Conv2D": ("relu", "linear"), "Dense": ("relu", "linear", "softmax")}
POOLING = ("MaxPooling2D", "AveragePooling2D")
PADDINGS = ("valid", "same")


class ExportError(ValueError):
    """A model the page cannot run, or exported files that do not hold what their manifest says."""


def _require(condition: bool, layer, what: str) -> None:
    """Refuse the layer, by name and type, with `what` the page cannot run, unless `condition` holds."""
    if not condition:
        raise ExportError(f"layer {layer.name} ({type(layer).__name__}): {what}")


def describe_layer(layer) -> dict:
    """The manifest's entry for one layer: its kind, its settings and its output shape (without the batch)."""
    kind = type(layer).__name__
    entry = {"name": layer.name, "type": kind, "output_shape": [int(n) for n in layer.output.shape[1:]]}
    _require(getattr(layer, "data_format", "channels_last") == "channels_last", layer,
             "the playground reads channels-last data only")
    if kind == "Conv2D":
        _require(layer.padding in PADDINGS, layer, f"padding {layer.padding!r}: the playground runs 'valid' or 'same'")
        _require(tuple(layer.dilation_rate) == (1, 1), layer,
                 f"dilation rate {tuple(layer.dilation_rate)}: the playground runs convolutions without dilation")
        _require(layer.groups == 1, layer, "a grouped convolution: the playground runs groups=1 only")
        _require(layer.use_bias, layer, "a convolution without a bias: the playground needs one")
        entry.update(filters=layer.filters, kernel_size=list(layer.kernel_size), strides=list(layer.strides),
                     padding=layer.padding)
    elif kind in POOLING:
        _require(layer.padding in PADDINGS, layer, f"padding {layer.padding!r}: the playground runs 'valid' or 'same'")
        entry.update(pool_size=list(layer.pool_size), strides=list(layer.strides), padding=layer.padding)
    elif kind == "GlobalAveragePooling2D":
        _require(not layer.keepdims, layer, "keepdims=True: the playground runs it with keepdims=False")
    elif kind == "Dense":
        _require(len(layer.input.shape) == 2, layer,
                 f"an input of shape {tuple(layer.input.shape[1:])}: put a Flatten or GlobalAveragePooling2D before it")
        _require(layer.use_bias, layer, "a Dense layer without a bias: the playground needs one")
        entry.update(units=layer.units)
    elif kind not in ("Flatten", "Dropout"):
        raise ExportError(f"layer {layer.name} ({kind}): the playground cannot run this type of layer; it runs "
                          "Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout and Dense")
    if kind in ACTIVATIONS:
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        _require(activation in ACTIVATIONS[kind], layer,
                 f"activation {activation!r}: the playground runs {', '.join(ACTIVATIONS[kind])} on a {kind} layer")
        entry["activation"] = activation
    return entry


def check_input(model) -> None:
    """Refuse a model that does not take one 28×28×1 image."""
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    if shape != INPUT_SHAPE:
        taken = " and ".join("×".join(str(n) for n in tensor.shape[1:]) for tensor in model.inputs)
        raise ExportError(f"the model takes {taken} inputs: the playground runs models on 28×28×1 digits")


def check_chain(model, layers: list) -> None:
    """Refuse a model whose output is not its layers applied one after the other, as the page applies them."""
    import keras

    probe = np.random.default_rng(0).random((2, *INPUT_SHAPE), dtype=np.float32)
    expected = keras.ops.convert_to_numpy(model(probe, training=False)) if len(model.outputs) == 1 else None
    chained = probe
    try:
        for layer in layers:
            chained = layer(chained, training=False)
    except Exception:  # a layer that cannot take the previous one's output
        chained = None
    if expected is None or chained is None or not np.allclose(keras.ops.convert_to_numpy(chained), expected, atol=1e-5):
        raise ExportError("the model is not one chain of layers, each taking the previous one's output: "
                          "the playground runs its layers one after the other")


def describe_model(model) -> tuple[list[dict], bytes]:
    """The manifest's layer entries, each listing its weights' shapes and offsets, and the float32 weights file."""
    check_input(model)
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    entries, arrays, offset = [], [], 0
    for layer in layers:
        entry = describe_layer(layer)
        entry["weights"] = []
        for variable, value in zip(layer.weights, layer.get_weights()):
            entry["weights"].append({"name": variable.name, "shape": list(value.shape), "offset": offset})
            arrays.append(np.asarray(value, "<f4").ravel())
            offset += value.size
        entries.append(entry)
    if offset != model.count_params():
        raise ExportError(f"exported {offset} parameters of the model's {model.count_params()}")
    check_chain(model, layers)
    return entries, np.concatenate(arrays).tobytes() if arrays else b""


def write_export(manifest: Path, description: dict, files: dict[str, tuple[str, bytes, dict]]) -> dict:
    """Write each named file (key: (suffix, bytes, fields)) beside `manifest`, then the manifest last, listing each
    one's name, size and SHA-256 under its key: a manifest only ever describes files already in place."""
    stem = manifest.name.removesuffix(".json")
    description = {"format": FORMAT, **description}
    manifest.parent.mkdir(parents=True, exist_ok=True)
    for key, (suffix, data, fields) in files.items():
        path = manifest.with_name(stem + suffix)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        description[key] = {"file": path.name, "bytes": len(data), "sha256": sha256(data), **fields}
    write_json(manifest, description)
    return description


def _weights_file(weights: bytes) -> tuple[str, bytes, dict]:
    """The weights file's entry for `write_export`."""
    return WEIGHTS_SUFFIX, weights, {"dtype": "float32", "byte_order": "little"}


def export_model(model, manifest: Path) -> dict:
    """Write NAME.json and NAME.weights.bin (manifest last) for any model the page can run."""
    import keras

    layers, weights = describe_model(model)
    description = {"model": manifest.name.removesuffix(".json"), "keras": keras.__version__,
                   "parameters": len(weights) // 4, "input_shape": list(INPUT_SHAPE), "input_scale": INPUT_SCALE,
                   "layers": layers}
    return write_export(manifest, description, {"weights": _weights_file(weights)})


def digit_choice(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Test-set indices of the page's digits: the first ones, then some the network misreads after them."""
    misread = np.flatnonzero(predicted != labels)
    return np.concatenate([np.arange(FIRST_DIGITS), misread[misread >= FIRST_DIGITS][:MISREAD_DIGITS]])


def export_convnet(model, record: dict, test_images: np.ndarray, test_labels: np.ndarray, manifest: Path) -> dict:
    """Write NAME.json, NAME.weights.bin and NAME.digits.bin (manifest last) from a trained model and its record."""
    from convnets.training import prepare_images

    layers, weights = describe_model(model)
    predicted = model.predict(prepare_images(test_images), batch_size=1000, verbose=0).argmax(axis=1)
    chosen = digit_choice(predicted, test_labels)
    digits = np.ascontiguousarray(test_images[chosen], dtype=np.uint8).tobytes()
    description = {
        "model": record["settings"]["model"],
        "recipe": record["recipe"]["name"],
        "epochs": record["recipe"]["epochs"],
        "keras": record["keras"],
        "parameters": len(weights) // 4,
        "test_accuracy": round(record["test_accuracy"], 4),
        "test_accuracy_recounted": float(np.mean(predicted == test_labels)),
        "input_shape": list(INPUT_SHAPE),
        "input_scale": INPUT_SCALE,
        "layers": layers,
    }
    digit_fields = {"dtype": "uint8", "count": len(chosen), "shape": list(test_images.shape[1:]),
                    "test_indices": chosen.tolist(), "labels": test_labels[chosen].tolist(),
                    "predicted": predicted[chosen].tolist()}
    return write_export(manifest, description, {"weights": _weights_file(weights),
                                                "digits": (DIGITS_SUFFIX, digits, digit_fields)})


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


def read_export(manifest: Path) -> tuple[dict, list[np.ndarray], np.ndarray | None]:
    """The manifest, the weight arrays in layer order and the digits (uint8; None in an export without them),
    each file checked first."""
    try:
        description = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExportError(f"{manifest}: not a readable manifest ({error})") from None
    if description.get("format") != FORMAT:
        raise ExportError(f"{manifest}: format {description.get('format')!r}, expected {FORMAT!r}")
    flat = np.frombuffer(_read_checked(manifest.parent, description["weights"]), "<f4")
    weights = [flat[w["offset"]:w["offset"] + int(np.prod(w["shape"]))].reshape(w["shape"])
               for layer in description["layers"] for w in layer["weights"]]
    if "digits" not in description:
        return description, weights, None
    count, shape = description["digits"]["count"], description["digits"]["shape"]
    digits = np.frombuffer(_read_checked(manifest.parent, description["digits"]), np.uint8).reshape(count, *shape)
    return description, weights, digits
# --8<-- [end:read_export]
