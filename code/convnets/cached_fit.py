"""`fit_or_load(model, x, y, **fit_arguments)` is `model.fit` for the chapters' scripts, trained once: the first call
trains the reader's own compiled model, later ones load what it learned from the store (convnets.store), keyed by
the code, the data and the settings."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from convnets import devices
from convnets.paths import PACKAGE_DIR
from convnets.run_files import HISTORY_FILE, write_json
from convnets.store import entry

KEYED_SOURCES = ("recipes.py", "models.py", "training.py", "runner.py")  # in this package, checked out or installed
WEIGHTS_FILE = "model.weights.h5"  # fit_or_load's weights (and optimizer state), beside HISTORY_FILE
UNKEYED_FIT_ARGUMENTS = ("verbose",)  # how much model.fit prints changes nothing it learns
_FITTING: set[str] = set()  # the keys of the fits fit_or_load is making in this process now


class FitHistory(keras.callbacks.History):
    """What `model.fit` returned, kept with the weights: `.history`, `.params` and `.epoch` as Keras
    recorded them, plus `.seconds`, how long the fit took, and `.device`, what it ran on."""

    def __init__(self, model: keras.Model, record: dict) -> None:
        super().__init__()
        self.set_model(model)
        self.history, self.params, self.epoch = record["history"], record["params"], record["epoch"]
        self.seconds, self.device = record["seconds"], record["device"]

    def __repr__(self) -> str:
        last = ", ".join(f"{name} {values[-1]:.4f}" for name, values in self.history.items() if values)
        return f"<FitHistory: {len(self.epoch)} epochs, last {last}; fit in {self.seconds:.0f} s on {self.device}>"


def fit_or_load(model: keras.Model, x, y, **fit_arguments) -> FitHistory:
    """`model.fit(x, y, **fit_arguments)` the first time; afterwards, what that fit left in the cache.

    `model` is built and compiled, not trained yet. On a cache miss this makes exactly the call above
    (Keras prints its progress as usual), then saves the model's weights, its optimizer's state and the
    history in the cache. On a hit it loads them into `model` instead, and returns the same history.
    The key is everything the fit depends on but the random initial weights: the architecture, the
    compile settings, the data (shape, dtype and bytes of `x` and `y`), the fit arguments (`verbose`
    aside), the Keras version and the training code of this package. Called again from within that
    `model.fit` (a wrapper serving fits from this cache, the page runner's, when `trained` runs on a page),
    it makes the plain `model.fit` and returns Keras's history.
    """
    if not model.compiled:
        raise ValueError("fit_or_load needs a compiled model: call model.compile(...) first, as for model.fit")
    if int(keras.ops.convert_to_numpy(model.optimizer.iterations)) > 0:
        raise ValueError("fit_or_load starts from an untrained model; to train this one further, call model.fit")
    key = fit_key(model, x, y, fit_arguments)
    if key in _FITTING:
        return model.fit(x, y, **fit_arguments)

    def fill(folder: Path) -> None:
        start = time.perf_counter()
        _FITTING.add(key)
        try:
            history = model.fit(x, y, **fit_arguments)
        finally:
            _FITTING.discard(key)
        seconds = time.perf_counter() - start
        model.save_weights(folder / WEIGHTS_FILE)
        write_json(folder / HISTORY_FILE, {
            "history": {name: [float(value) for value in values] for name, values in history.history.items()},
            "params": history.params, "epoch": list(history.epoch), "seconds": round(seconds, 2),
            "device": devices.describe_device("auto").removeprefix("Training on "), "key": key})

    with entry(f"fit-{key}", fill) as (folder, filled):
        if not filled:
            model.optimizer.build(model.trainable_variables)  # so that its saved state has somewhere to go
            model.load_weights(folder / WEIGHTS_FILE)
            if fit_arguments.get("verbose", 1):
                print(f"fit_or_load: weights and history of this fit loaded from {folder}")
        return FitHistory(model, json.loads((folder / HISTORY_FILE).read_text()))


def fit_key(model: keras.Model, x, y, fit_arguments: dict) -> str:
    """The cache key of `fit_or_load(model, x, y, **fit_arguments)`."""
    names = {layer.name: f"layer-{index}" for index, layer in enumerate(model.layers)} | {model.name: "model"}
    architecture = _renamed(json.loads(model.to_json()), names)  # Keras numbers its default names per process
    architecture.pop("compile_config", None)  # keyed below, without the optimizer's numbered name
    compile_config = model.get_compile_config()
    compile_config["optimizer"] = keras.optimizers.serialize(model.optimizer)  # a name, or an object: its config
    compile_config["optimizer"]["config"].pop("name", None)  # rm_sprop, rm_sprop_1, ...
    arguments = {name: value for name, value in fit_arguments.items() if name not in UNKEYED_FIT_ARGUMENTS}
    return _digest(json.dumps({"architecture": architecture, "compile": compile_config,
                               "x": _keyable(x), "y": _keyable(y), "fit": _keyable(arguments)},
                              sort_keys=True, default=_unkeyable))


def _digest(*parts: str | bytes) -> str:
    """A short hash of the training code, the Keras version and its backend's, then of `parts`: a model trained on
    one backend is never loaded on another."""
    digest = hashlib.sha256()
    for source in KEYED_SOURCES:
        digest.update((PACKAGE_DIR / source).read_bytes())
    digest.update(f"{keras.__version__} {devices.backend_version()}".encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:16]


def _renamed(config: Any, names: dict[str, str]) -> Any:
    """`config` with every string that is a layer's or the model's name replaced by its position."""
    if isinstance(config, dict):
        return {key: _renamed(value, names) for key, value in config.items()}
    if isinstance(config, list):
        return [_renamed(value, names) for value in config]
    return names.get(config, config) if isinstance(config, str) else config


def _keyable(value: Any) -> Any:
    """`value` as JSON for a key: arrays by shape, dtype and a hash of their bytes, Keras objects by config."""
    if isinstance(value, dict):
        return {str(key): _keyable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_keyable(item) for item in value]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "get_config"):  # a Keras optimizer, schedule, initializer, ...
        return keras.saving.serialize_keras_object(value)
    if hasattr(value, "__array__"):  # NumPy arrays, tensors
        array = np.ascontiguousarray(value)
        return {"shape": list(array.shape), "dtype": str(array.dtype),
                "sha256": hashlib.sha256(array.view(np.uint8).reshape(-1) if array.size else b"").hexdigest()}
    return _unkeyable(value)


def _unkeyable(value: Any):
    raise TypeError(f"fit_or_load cannot key its cache on {value!r}: pass arrays, numbers, strings or Keras "
                    "objects with a config (callbacks and datasets are not supported; call model.fit)")
