"""One benchmark run: train one entry with one seed, timing training alone, and report it as JSON.

The benchmark starts each run in a fresh process (`python -m convnets.benchmark.run SPEC OUTPUT`), so
that thread pools, dtype policies and environment variables such as TF_ENABLE_ONEDNN_OPTS cannot leak
from one run into the next. Every entry is timed by the same callback (clock.TimeTraining): from the
start of `fit`'s training to its end, so building, compiling and saving the model are off the clock.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from convnets.atomic import atomic_path


@dataclass(frozen=True)
class Entry:
    """A way of training the convnet that the benchmark compares."""

    name: str
    label: str
    recipe: str
    path: str  # "book": plain Keras as the book writes it; "train.py": run_training, as train.py; "resident": jitted loop


ENTRIES = {
    "book": Entry("book", "(a) the book's code", "book", "book"),
    "book-train-py": Entry("book-train-py", "(b) train.py, book recipe", "book", "train.py"),
    "fast": Entry("fast", "(c) fast recipe", "fast", "train.py"),
    "fast-train-py": Entry("fast-train-py", "fast recipe through train.py", "fast", "train.py"),
    "fast-resident": Entry("fast-resident", "(c) fast recipe, data on the GPU", "fast", "resident"),
}


@dataclass
class Spec:
    """What one run trains: which entry, seed, how much data, and how often to evaluate."""

    entry: str
    seed: int = 1
    limit: int | None = None  # training images (None: all 60,000)
    test_limit: int | None = None  # test images (None: all 10,000)
    epochs: int | None = None  # None: the recipe's
    evals_per_epoch: int = 4
    device: str = "auto"
    data: str | None = None
    overrides: dict = field(default_factory=dict)  # Recipe fields to change: the probes and the search's candidates
    probe: bool = False  # measure throughput only: no evaluations, no accuracy
    validation: bool = False  # hold out the last training images and score on them, never on the test set


def load_data(spec: Spec):
    """MNIST as uint8 arrays, cut to the spec's limits, as run_training takes it. With `validation`, the
    "test" images are the last training images instead, and training uses only those before them."""
    from convnets.benchmark.search import VALIDATION_IMAGES
    from convnets.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(spec.data)
    if spec.validation:
        (x_train, x_test), (y_train, y_test) = ((x[:-VALIDATION_IMAGES], x[-VALIDATION_IMAGES:]) for x in (x_train, y_train))
    return (x_train[:spec.limit], y_train[:spec.limit]), (x_test[:spec.test_limit], y_test[:spec.test_limit])


# --8<-- [start:book]
def fit_as_the_book(train_images, train_labels, epochs, callbacks):
    """The book's training code, word for word (the model is its Listing 8.1)."""
    from convnets.models import build_convnet

    model = build_convnet()
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=epochs, batch_size=64, callbacks=callbacks, verbose=0)
    return model
# --8<-- [end:book]


# --8<-- [start:train_path]
def fit_as_train_py(settings: dict, mnist, device_line: str, callbacks) -> None:
    """What code/train.py runs, `run_training`, in a scratch output folder, with the benchmark's callbacks."""
    from convnets.runner import run_training

    with tempfile.TemporaryDirectory() as folder:
        run_training(settings, Path(folder), device_line, verbose=0, mnist=mnist, callbacks=callbacks)
# --8<-- [end:train_path]


def run(spec: Spec) -> dict:
    """Train as the spec says and return its timings, evaluations and final test accuracy."""
    import keras

    from convnets import devices, recipes, training
    from convnets.benchmark import flops, machine
    from convnets.benchmark.clock import TimeTraining
    from convnets.runner import default_settings

    entry = ENTRIES[spec.entry]
    device_line = devices.describe_device(spec.device)
    on_gpu = "GPU" in device_line
    overrides = {"epochs": spec.epochs, **spec.overrides}
    recipe = recipes.recipe_with(entry.recipe, **overrides)
    policy = "float32" if entry.path == "book" else training.precision_policy(recipe, on_gpu=on_gpu)
    mnist = load_data(spec)
    (train_images, y_train), (test_images, y_test) = mnist
    x_test = training.prepare_images(test_images)  # run_training prepares the training images itself
    batch_size = 64 if entry.path == "book" else recipe.batch_size
    steps = training.steps_per_epoch(len(train_images), batch_size)
    every = 0 if spec.probe else -(-steps // spec.evals_per_epoch)  # the last of each epoch's comes at its end

    if entry.path != "train.py":  # run_training sets the seed and the recipe's dtype policy itself
        keras.utils.set_random_seed(spec.seed)
        keras.mixed_precision.set_dtype_policy(policy)
    if entry.path == "resident":
        from convnets.benchmark import resident

        result = resident.train(recipe, training.prepare_images(train_images), y_train, x_test, y_test, every,
                                seed=spec.seed)
        model = result.pop("model")
    else:
        timer = TimeTraining(x_test, y_test, every, steps)
        if entry.path == "book":
            fit_as_the_book(training.prepare_images(train_images), y_train, recipe.epochs, [timer])
        else:
            settings = default_settings("convnet", entry.recipe, seed=spec.seed, overrides=overrides)
            fit_as_train_py(settings, mnist, device_line, [timer])
        model = timer.model
        result = timer.timings(batch_size)

    trained_images = result.pop("trained_images", len(train_images) * recipe.epochs)
    result.update({
        "entry": entry.name, "recipe": recipe.as_dict(), "seed": spec.seed, "spec": asdict(spec),
        "device": device_line, "policy": policy, "batch_size": batch_size,
        "jit_compile": bool(getattr(model, "jit_compile", False)) or entry.path == "resident",
        "onednn": machine.onednn_enabled(),
        "train_images": len(train_images), "test_images": len(x_test), "epochs": recipe.epochs,
        "validation": spec.validation, "parameters": model.count_params(),
        "images_per_second": trained_images / result["fit_seconds"],
        "gflops_per_second": trained_images * flops.training_flops(model) / result["fit_seconds"] / 1e9,
    })
    if not spec.probe:  # the last evaluation is the trained model's, on the whole test set
        result["final_accuracy"] = result["evaluations"][-1]["accuracy"]
    return result


def main(argv: list[str]) -> int:
    """Entry point of a run's process: `python -m convnets.benchmark.run SPEC_JSON OUTPUT_JSON`."""
    spec_text, output = argv
    result = run(Spec(**json.loads(spec_text)))
    with atomic_path(Path(output)) as tmp:
        tmp.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
