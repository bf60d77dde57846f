"""One benchmark run: train one entry with one seed, timing training alone, and report it as JSON.

The benchmark starts each run in a fresh process (`python -m convnets.bench SPEC OUTPUT`), so that
thread pools, dtype policies and environment variables such as TF_ENABLE_ONEDNN_OPTS cannot leak
from one run into the next.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Entry:
    """A way of training the convnet that the benchmark compares."""

    name: str
    label: str
    recipe: str
    path: str  # "book": plain Keras as the book writes it; "train.py": our runner's path; "resident": jitted loop


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
    overrides: dict = field(default_factory=dict)  # Recipe fields to change, for the throughput probes
    probe: bool = False  # measure throughput only: no evaluations, no accuracy


class Clock:
    """A stopwatch for training that stops while the model is evaluated."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        """Seconds of training so far, evaluations excluded."""
        return time.perf_counter() - self.start - self.paused

    def pause(self) -> float:
        """Stop counting; returns the training seconds so far."""
        self._pause_start = time.perf_counter()
        return self._pause_start - self.start - self.paused

    def resume(self) -> None:
        self.paused += time.perf_counter() - self._pause_start


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of images whose highest-scoring class is the label."""
    return float(np.mean(np.argmax(predictions, axis=-1) == labels))


def wait_for(model) -> None:
    """Block until the device has finished the work queued so far (JAX and GPUs run asynchronously)."""
    import keras

    keras.ops.convert_to_numpy(model.trainable_variables[-1])


def make_eval_callback(clock: Clock, x_test: np.ndarray, y_test: np.ndarray, every: int, steps_per_epoch: int):
    """A Keras callback that measures test accuracy every `every` steps and at each epoch's end, off the clock."""
    import keras

    class EvaluateOffTheClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.evaluations: list[dict] = []
            self.calls: list[tuple[int, float]] = []  # (steps, seconds) of each call of the training function
            self.steps = 0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch, self.epoch_steps, self.next_eval = epoch, 0, every
            self.last_call = clock.elapsed()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if not self.calls:
                wait_for(self.model)  # so that the first call's time holds the compilation
            now = clock.elapsed()
            done = min(batch + 1, steps_per_epoch)  # a call of several steps may report past the epoch's end
            self.calls.append((done - self.epoch_steps, now - self.last_call))
            self.last_call = now
            self.steps += done - self.epoch_steps
            self.epoch_steps = done
            if every and self.epoch_steps >= self.next_eval:
                self.evaluate()
                self.next_eval += every

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if every and (not self.evaluations or self.evaluations[-1]["step"] != self.steps):
                self.evaluate()

        def evaluate(self) -> None:
            wait_for(self.model)
            seconds = clock.pause()
            predictions = self.model.predict(x_test, batch_size=1000, verbose=0)
            self.evaluations.append({"step": self.steps, "epoch": self.epoch + self.epoch_steps / steps_per_epoch,
                                     "seconds": seconds, "accuracy": accuracy(predictions, y_test)})
            clock.resume()
            self.last_call = clock.elapsed()

    return EvaluateOffTheClock()


def steady_step_seconds(calls: list[tuple[int, float]]) -> float:
    """Seconds per training step once compiled: the calls after the first, all together."""
    later = calls[1:] or calls
    return sum(seconds for _, seconds in later) / sum(steps for steps, _ in later)


def one_time_seconds(calls: list[tuple[int, float]]) -> float:
    """The first call's extra time over a compiled call of as many steps: tracing and compilation, mostly."""
    steps, seconds = calls[0]
    return max(0.0, seconds - steps * steady_step_seconds(calls))


def load_data(spec: Spec):
    """MNIST as float32 arrays in [0, 1], converted once, cut to the spec's limits."""
    from convnets import training
    from convnets.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(spec.data)
    x_train, y_train = x_train[:spec.limit], y_train[:spec.limit]
    x_test, y_test = x_test[:spec.test_limit], y_test[:spec.test_limit]
    return (training.prepare_images(x_train), y_train), (training.prepare_images(x_test), y_test)


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
def fit_as_train_py(recipe, train_images, train_labels, callbacks, folder: "Path"):
    """What code/train.py does around `fit`: the recipe's compile, its checkpoints, epoch log and divergence guard."""
    from convnets import models, training

    model = models.MODELS["convnet"]()
    training.compile_model(model, recipe, training.steps_per_epoch(len(train_images), recipe.batch_size))
    callbacks = [*training.run_callbacks(folder, training.DivergenceGuard()), *callbacks]
    model.fit(train_images, train_labels, epochs=recipe.epochs, batch_size=recipe.batch_size,
              callbacks=callbacks, verbose=0)
    return model
# --8<-- [end:train_path]


def run(spec: Spec) -> dict:
    """Train as the spec says and return its timings, evaluations and final test accuracy."""
    import keras

    from convnets import devices, flops, machine, training

    entry = ENTRIES[spec.entry]
    device_line = devices.describe_device(spec.device)
    on_gpu = "GPU" in device_line
    recipe = training.recipe_with(entry.recipe, epochs=spec.epochs, **spec.overrides)
    keras.utils.set_random_seed(spec.seed)
    policy = "float32" if entry.path == "book" else training.precision_policy(recipe, on_gpu=on_gpu)
    keras.mixed_precision.set_dtype_policy(policy)
    (x_train, y_train), (x_test, y_test) = load_data(spec)
    batch_size = 64 if entry.path == "book" else recipe.batch_size
    steps = training.steps_per_epoch(len(x_train), batch_size)
    every = 0 if spec.probe else max(1, steps // spec.evals_per_epoch)

    if entry.path == "resident":
        from convnets import resident

        result = resident.train(recipe, x_train, y_train, x_test, y_test, every, seed=spec.seed)
        model = result.pop("model")
    else:
        clock = Clock()
        evaluator = make_eval_callback(clock, x_test, y_test, every, steps)
        with tempfile.TemporaryDirectory() as folder:
            clock.start = time.perf_counter()
            if entry.path == "book":
                model = fit_as_the_book(x_train, y_train, recipe.epochs, [evaluator])
            else:
                model = fit_as_train_py(recipe, x_train, y_train, [evaluator], Path(folder))
            wait_for(model)
            fit_seconds = clock.elapsed()
        result = {"fit_seconds": fit_seconds, "evaluations": evaluator.evaluations,
                  "one_time_seconds": one_time_seconds(evaluator.calls), "compile_in_fit": True,
                  "steady_images_per_second": batch_size / steady_step_seconds(evaluator.calls)}

    trained_images = result.pop("trained_images", len(x_train) * recipe.epochs)
    result.update({
        "entry": entry.name, "recipe": recipe.as_dict(), "seed": spec.seed, "spec": asdict(spec),
        "device": device_line, "policy": policy, "batch_size": batch_size,
        "jit_compile": bool(getattr(model, "jit_compile", False)) or entry.path == "resident",
        "onednn": machine.onednn_enabled(),
        "train_images": len(x_train), "test_images": len(x_test), "epochs": recipe.epochs,
        "images_per_second": trained_images / result["fit_seconds"],
        "gflops_per_second": trained_images * flops.training_flops(model) / result["fit_seconds"] / 1e9,
    })
    if not spec.probe:
        result["final_accuracy"] = accuracy(model.predict(x_test, batch_size=1000, verbose=0), y_test)
    return result


def main(argv: list[str]) -> int:
    """Entry point of a run's process: `python -m convnets.bench SPEC_JSON OUTPUT_JSON`."""
    spec_text, output = argv
    result = run(Spec(**json.loads(spec_text)))
    Path(output).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
