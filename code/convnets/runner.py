"""One training run, from settings to a saved model and history in an output folder.

`run_training` is what train.py runs, and the pooling and translation experiments and the benchmark's
train.py entries, which watch it through the `callbacks` they pass in. The models the pages, figures and
tests share (named_runs.trained) are fitted through the cache instead, and recorded the same way (`run_record`).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Iterable

import keras

from convnets import devices, models, recipes, training
from convnets.data import Split, load_mnist
from convnets.run_files import (BACKUP_DIR, HISTORY_FILE, LOG_FILE, MODEL_FILE, read_epoch_log, save_model_atomically,
                                write_json)
from convnets.shifts import place_on_canvas


class TrainingFailed(Exception):
    """The loss diverged (NaN, infinite or past the bound), so no model was saved."""


def default_settings(model: str = "convnet", recipe: str = "book", **changes) -> dict:
    """Settings for `run_training`, as train.py records them in settings.json."""
    settings = {"model": model, "recipe": recipe, "overrides": {}, "seed": 1, "limit": None,
                "deterministic": False, "data": None, "canvas": None}
    settings.update(changes)
    return settings


def run_training(settings: dict, output: Path, device_line: str, verbose: int | None = None,
                 mnist: tuple[Split, Split] | None = None, callbacks: Iterable[keras.callbacks.Callback] = ()) -> dict:
    """Train as `settings` say, keeping every finished epoch in `output` so an interrupted run can resume.

    `mnist` is the data set when the caller has loaded it already; `callbacks` join the run's own (see
    training.run_callbacks) to watch the training. `verbose=0` prints nothing. Returns the history record
    also written to history.json. KeyboardInterrupt propagates.
    """
    recipe = recipes.recipe_with(settings["recipe"], **settings["overrides"])
    keras.utils.set_random_seed(settings["seed"])
    if settings["deterministic"]:
        devices.enable_determinism()
    keras.mixed_precision.set_dtype_policy(training.precision_policy(recipe, on_gpu="GPU" in device_line))

    (x_train, y_train), (x_test, y_test) = prepared_data(settings, mnist)
    if settings.get("canvas"):  # the digits at the center of a larger blank canvas, and a model for its size
        model = models.CANVAS_MODELS[settings["model"]](settings["canvas"])
    else:
        model = models.MODELS[settings["model"]]()
    training.compile_model(model, recipe, training.steps_per_epoch(len(x_train), recipe.batch_size))

    guard = training.DivergenceGuard(settings.get("max_loss") or training.DIVERGENCE_BOUND)
    verbose = verbose if verbose is not None else (1 if sys.stdout.isatty() else 2)
    if verbose:
        print(f"Model {settings['model']}: {model.count_params():,} parameters; recipe {recipe.name}: "
              f"{recipe.optimizer}, batch {recipe.batch_size}, {recipe.epochs} epoch{'s' if recipe.epochs != 1 else ''}, {len(x_train):,} training images")
    start = time.perf_counter()
    model.fit(**training.fit_data(x_train, y_train, recipe), epochs=recipe.epochs,
              callbacks=[*training.run_callbacks(output, guard), *callbacks], verbose=verbose)
    fit_seconds = time.perf_counter() - start
    keras.mixed_precision.set_dtype_policy("float32")

    history = read_epoch_log(output / LOG_FILE)
    if guard.reason:
        shutil.rmtree(output / BACKUP_DIR, ignore_errors=True)
        raise TrainingFailed(f"training stopped: {guard.reason}; try a lower --learning-rate. No model was saved.")

    record = run_record(settings, device_line, model, history, fit_seconds, (x_test, y_test))
    save_model_atomically(model, output / MODEL_FILE)
    write_json(output / HISTORY_FILE, record)
    return record


def prepared_data(settings: dict, mnist: tuple[Split, Split] | None = None) -> tuple[Split, Split]:
    """The first `limit` training images and all the test images as the models take them (float32 in [0, 1],
    on the settings' canvas if any), from `mnist` or the settings' data file."""
    (x_train, y_train), (x_test, y_test) = mnist or load_mnist(settings["data"])
    limit = settings["limit"] or len(x_train)
    x_train, y_train = training.prepare_images(x_train[:limit]), y_train[:limit]
    x_test = training.prepare_images(x_test)
    if settings.get("canvas"):
        x_train = place_on_canvas(x_train, size=settings["canvas"])
        x_test = place_on_canvas(x_test, size=settings["canvas"])
    return (x_train, y_train), (x_test, y_test)


def run_record(settings: dict, device_line: str, model: keras.Model, history: dict[str, list[float]],
               fit_seconds: float, test_set: Split) -> dict:
    """What history.json holds about a trained `model`: its settings and recipe, where and how long it trained,
    its per-epoch history and its loss and accuracy on `test_set`."""
    test_loss, test_accuracy = model.evaluate(*test_set, batch_size=512, verbose=0)
    return {
        "settings": settings,
        "recipe": recipes.recipe_with(settings["recipe"], **settings["overrides"]).as_dict(),
        "device": device_line,
        "parameters": model.count_params(),
        "history": history,
        "fit_seconds_last_session": round(fit_seconds, 2),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "backend_version": devices.backend_version(),
    }
