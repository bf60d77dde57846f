"""Train a model once and reuse it: a cache keyed by the code, the data and the settings."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import keras

from convnets import devices
from convnets.data import ENV_VAR, LOCAL_FILE
from convnets.paths import PACKAGE_DIR, RUNS_DIR
from convnets.run_files import HISTORY_FILE, MODEL_FILE
from convnets.runner import default_settings, run_training

CACHE_ENV = "CONVNETS_CACHE"
KEYED_SOURCES = ("recipes.py", "models.py", "training.py", "runner.py")  # in this package, checked out or installed


def cache_dir() -> Path:
    """$CONVNETS_CACHE when set (the test suite points it at a per-session folder), else runs/cache."""
    return Path(os.environ.get(CACHE_ENV) or RUNS_DIR / "cache")


def cache_key(settings: dict) -> str:
    """A short hash of the training code, the data file, the settings and the Keras version."""
    digest = hashlib.sha256()
    for source in KEYED_SOURCES:
        digest.update((PACKAGE_DIR / source).read_bytes())
    data_file = Path(settings["data"] or os.environ.get(ENV_VAR) or LOCAL_FILE)  # the file load_mnist reads
    if data_file.exists():
        digest.update(f"{data_file.stat().st_size}:{data_file.stat().st_mtime_ns}".encode())
    else:
        digest.update(b"keras download")  # no local file: load_mnist falls back to Keras's own copy
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(keras.__version__.encode())
    return digest.hexdigest()[:16]


def trained(model: str = "convnet", recipe: str = "book", **changes) -> tuple[keras.Model, dict]:
    """The trained model and its history record; trains (verbosely, once) on a cache miss."""
    settings = default_settings(model, recipe, **changes)
    folder = cache_dir() / f"{model}-{recipe}-{cache_key(settings)}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process training the same model: wait for it
        if not (folder / MODEL_FILE).exists():
            shutil.rmtree(folder, ignore_errors=True)  # a half-finished earlier attempt
            folder.mkdir()
            run_training(settings, folder, devices.describe_device("auto"), verbose=2)
    record = json.loads((folder / HISTORY_FILE).read_text())
    return keras.models.load_model(folder / MODEL_FILE), record
